package dev.zksdk.internal.cache;

import dev.zksdk.cache.CacheConfig;
import dev.zksdk.cache.CachedNode;
import dev.zksdk.cache.ZkTreeCache;
import dev.zksdk.internal.pipeline.OperationRunner;
import dev.zksdk.internal.pipeline.ZkCall;
import dev.zksdk.internal.recovery.RegisteredWatches;
import dev.zksdk.internal.session.SharedSession;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Function;

/** A {@link WatchedCache} over a subtree (one recursive watch) that also serves children lists. */
final class WatchedTreeCache extends WatchedCache implements ZkTreeCache {

    WatchedTreeCache(
            SharedSession session,
            RegisteredWatches watches,
            OperationRunner runner,
            Function<String, ZkCall<CachedNode>> nodeReader,
            Executor completions,
            String root,
            CacheConfig config) {
        super(session, watches, runner, nodeReader, completions, root, true, config);
    }

    @Override
    public List<String> getChildren(String path) {
        return children(path);
    }

    @Override
    public CompletableFuture<List<String>> getChildrenAsync(String path) {
        return childrenAsync(path);
    }

    @Override
    public List<String> getChildrenCurrent(String path) {
        return childrenCurrent(path);
    }
}
