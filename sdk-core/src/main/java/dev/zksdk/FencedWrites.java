package dev.zksdk;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.data.Stat;

/**
 * Writes of a lease fenced by a {@link FencingToken}, made by {@link ZkLease#fenced(FencingToken)}: each write is sent
 * as one {@code multi} whose first operations check that the epoch node still has the token's version and that the
 * token's {@link FencingToken#holderNode() holder node} still exists. A holder that lost its turn (another holder
 * bumped the epoch; or its session expired, it released or closed, its node was deleted) gets
 * {@link ZkFencedException} and nothing of the write is applied; it is never retried.
 *
 * <p>Otherwise each write behaves as the lease's: validation first, retries on connection loss only when the server's
 * state proves the write was not applied, and {@link ZkConnectionLossException} with the outcome unknown when it
 * cannot tell (a fenced write lost in flight may have landed: the check passed then). Application results of the
 * write itself ({@code NONODE}, {@code NODEEXISTS}, {@code BADVERSION}) throw their usual {@link ZkException}. Reads
 * are not fenced: use the lease. Writes to the epoch node or the holder node themselves are refused. After the lease is closed every method
 * throws {@link IllegalStateException}. The {@code ...Async} forms complete as the lease's do.
 */
public interface FencedWrites {

    /**
     * The token every write carries.
     *
     * @return the token given to {@link ZkLease#fenced(FencingToken)}
     */
    FencingToken token();

    /**
     * {@link ZkLease#create(String, byte[], CreateMode)}, fenced.
     *
     * @param path the node's absolute path; for a sequential mode, the prefix the counter is appended to
     * @param data the node's data, not null
     * @param mode persistent, ephemeral, sequential or container
     * @return the path created
     * @throws ZkFencedException when the token is no longer current
     */
    String create(String path, byte[] data, CreateMode mode);

    /**
     * {@link ZkLease#setData}, fenced.
     *
     * @param path the node's absolute path
     * @param data the new data, not null
     * @param version the version the node must have, or -1 for any
     * @return the node's stat after the write
     * @throws ZkFencedException when the token is no longer current
     */
    Stat setData(String path, byte[] data, int version);

    /**
     * {@link ZkLease#delete}, fenced.
     *
     * @param path the node's absolute path
     * @param version the version the node must have, or -1 for any
     * @throws ZkFencedException when the token is no longer current
     */
    void delete(String path, int version);

    /**
     * {@link ZkLease#multi}, fenced: the checks go first, then {@code ops}, all or none.
     *
     * @param ops the operations, not empty
     * @return one result per operation of {@code ops} (the checks' results are left out)
     * @throws ZkFencedException when the token is no longer current
     */
    List<OpResult> multi(List<Op> ops);

    /**
     * {@link #create}, without blocking.
     *
     * @param path the node's absolute path
     * @param data the node's data, not null
     * @param mode the create mode
     * @return a future of the path created; it fails as {@link #create} throws
     */
    CompletableFuture<String> createAsync(String path, byte[] data, CreateMode mode);

    /**
     * {@link #setData}, without blocking.
     *
     * @param path the node's absolute path
     * @param data the new data, not null
     * @param version the version the node must have, or -1 for any
     * @return a future of the node's stat; it fails as {@link #setData} throws
     */
    CompletableFuture<Stat> setDataAsync(String path, byte[] data, int version);

    /**
     * {@link #delete}, without blocking.
     *
     * @param path the node's absolute path
     * @param version the version the node must have, or -1 for any
     * @return a future completed when deleted; it fails as {@link #delete} throws
     */
    CompletableFuture<Void> deleteAsync(String path, int version);

    /**
     * {@link #multi}, without blocking.
     *
     * @param ops the operations, not empty
     * @return a future of the results of {@code ops}; it fails as {@link #multi} throws
     */
    CompletableFuture<List<OpResult>> multiAsync(List<Op> ops);
}
