package dev.zksdk.cache;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A {@link ZkCache} of a node and every node below it, watched by one persistent recursive watch, that also caches
 * children lists. {@link #get(String)} accepts any path in the subtree; a child created or deleted anywhere in it
 * updates its parent's cached list. The guarantees of {@link ZkCache} hold for children lists as for data.
 */
public interface ZkTreeCache extends ZkCache {

    /**
     * The names of the node's children, from memory when the cache may serve them, otherwise read and kept.
     *
     * @param path the node's absolute path, in the cached subtree
     * @return the children's names (not paths), sorted; an unmodifiable list
     * @throws dev.zksdk.ZkNoNodeException when the node does not exist
     * @throws IllegalArgumentException when {@code path} is invalid or outside the cached subtree
     * @throws dev.zksdk.ZkException (a subclass) when the read from the server fails
     * @throws IllegalStateException after {@link #close()} or after the pool closed
     */
    List<String> getChildren(String path);

    /**
     * As {@link #getChildren(String)}, without blocking.
     *
     * @param path the node's absolute path, in the cached subtree
     * @return a future of the sorted names; it fails as {@link #getChildren(String)} throws
     */
    CompletableFuture<List<String>> getChildrenAsync(String path);

    /**
     * {@code sync} then read of the node's children: reflects every write committed before this call. The result
     * replaces the cached list.
     *
     * @param path the node's absolute path, in the cached subtree
     * @return the children's names (not paths), sorted; an unmodifiable list
     * @throws dev.zksdk.ZkNoNodeException when the node does not exist
     * @throws IllegalArgumentException when {@code path} is invalid or outside the cached subtree
     */
    List<String> getChildrenCurrent(String path);
}
