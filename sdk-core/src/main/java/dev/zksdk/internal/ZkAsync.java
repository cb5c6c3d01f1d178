package dev.zksdk.internal;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BiFunction;
import org.apache.zookeeper.AsyncCallback;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.data.Stat;

/**
 * The SDK's one adapter from ZooKeeper's asynchronous callbacks to futures: each callback completes its future with
 * the result on OK and with the {@link KeeperException} of the code otherwise (NONODE as null where the caller says
 * absence is an answer). Callbacks run on ZooKeeper's event thread; so do dependent stages that are not given an
 * executor.
 */
public final class ZkAsync {

    private ZkAsync() {}

    /** The exception for a non-OK result code. */
    public static KeeperException error(int rc, String path) {
        return KeeperException.create(Code.get(rc), path);
    }

    /**
     * A future that completes as {@code inner} does, on {@code executor}: what the caller chains to it without an
     * executor runs there, never on the thread that completed {@code inner} (ZooKeeper's event thread, which must not
     * wait for anything). Already complete: {@code inner} itself (dependent stages run on the caller's thread). When
     * {@code executor} refuses (it is shut down) the future completes on the completing thread.
     */
    public static <T> CompletableFuture<T> completeOn(CompletableFuture<T> inner, Executor executor) {
        if (inner.isDone()) {
            return inner;
        }
        CompletableFuture<T> out = new CompletableFuture<>();
        inner.whenComplete((value, error) -> {
            Runnable complete = () -> {
                if (error == null) {
                    out.complete(value);
                } else {
                    out.completeExceptionally(unwrapCompletion(error));
                }
            };
            try {
                executor.execute(complete);
            } catch (RejectedExecutionException e) {
                complete.run();
            }
        });
        return out;
    }

    private static Throwable unwrapCompletion(Throwable t) {
        return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    }

    /** Unwraps the {@link CompletionException}s and {@link ExecutionException}s that futures add. */
    public static Throwable unwrap(Throwable t) {
        Throwable e = t;
        while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }

    /** For a call without a result (delete, sync, setACL, removeWatches...). */
    public static AsyncCallback.VoidCallback done(CompletableFuture<Void> f, String path) {
        return (rc, p, ctx) -> {
            if (rc == 0) {
                f.complete(null);
            } else {
                f.completeExceptionally(error(rc, path));
            }
        };
    }

    /** For getData: the data (never null: an empty array for a node without data). */
    public static AsyncCallback.DataCallback data(CompletableFuture<byte[]> f, String path) {
        return (rc, p, ctx, data, stat) -> {
            if (rc == 0) {
                f.complete(data == null ? new byte[0] : data);
            } else {
                f.completeExceptionally(error(rc, path));
            }
        };
    }

    /** For getData with its stat: {@code result} of both, or null when there is no node. */
    public static <T> AsyncCallback.DataCallback dataOrNull(
            CompletableFuture<T> f, String path, BiFunction<byte[], Stat, T> result) {
        return (rc, p, ctx, data, stat) -> {
            if (rc == 0) {
                f.complete(result.apply(data, stat));
            } else if (rc == Code.NONODE.intValue()) {
                f.complete(null);
            } else {
                f.completeExceptionally(error(rc, path));
            }
        };
    }

    /** For exists: the stat, or null when there is no node. */
    public static AsyncCallback.StatCallback statOrNull(CompletableFuture<Stat> f, String path) {
        return (rc, p, ctx, stat) -> {
            if (rc == 0) {
                f.complete(stat);
            } else if (rc == Code.NONODE.intValue()) {
                f.complete(null);
            } else {
                f.completeExceptionally(error(rc, path));
            }
        };
    }

    /** For setData: the new stat. */
    public static AsyncCallback.StatCallback stat(CompletableFuture<Stat> f, String path) {
        return (rc, p, ctx, stat) -> {
            if (rc == 0) {
                f.complete(stat);
            } else {
                f.completeExceptionally(error(rc, path));
            }
        };
    }

    /** For create: the created path. */
    public static AsyncCallback.StringCallback name(CompletableFuture<String> f, String path) {
        return (rc, p, ctx, name) -> {
            if (rc == 0) {
                f.complete(name);
            } else {
                f.completeExceptionally(error(rc, path));
            }
        };
    }

    /** For getChildren: the names, or null when there is no node if {@code absentIsNull}. */
    public static AsyncCallback.ChildrenCallback children(
            CompletableFuture<List<String>> f, String path, boolean absentIsNull) {
        return (rc, p, ctx, children) -> {
            if (rc == 0) {
                f.complete(children);
            } else if (absentIsNull && rc == Code.NONODE.intValue()) {
                f.complete(null);
            } else {
                f.completeExceptionally(error(rc, path));
            }
        };
    }

    /** Completes {@code target} as {@code source} completes. */
    public static <T> void relay(CompletableFuture<T> source, CompletableFuture<T> target) {
        source.whenComplete((v, e) -> {
            if (e == null) {
                target.complete(v);
            } else {
                target.completeExceptionally(unwrap(e));
            }
        });
    }
}
