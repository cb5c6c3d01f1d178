package dev.zksdk.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.jute.Record;
import org.apache.zookeeper.ZooDefs.OpCode;
import org.apache.zookeeper.server.ByteBufferInputStream;
import org.apache.zookeeper.server.persistence.FileTxnLog;
import org.apache.zookeeper.server.persistence.TxnLog.TxnIterator;
import org.apache.zookeeper.txn.CheckVersionTxn;
import org.apache.zookeeper.txn.CreateContainerTxn;
import org.apache.zookeeper.txn.CreateTTLTxn;
import org.apache.zookeeper.txn.CreateTxn;
import org.apache.zookeeper.txn.DeleteTxn;
import org.apache.zookeeper.txn.ErrorTxn;
import org.apache.zookeeper.txn.MultiTxn;
import org.apache.zookeeper.txn.SetDataTxn;
import org.apache.zookeeper.txn.TxnHeader;

/**
 * What a ZooKeeper server actually did, read from its transaction log with ZooKeeper's own classes
 * ({@link FileTxnLog}): every transaction in zxid order with its session, and the node writes it applied. For tests
 * that compare what a client reported with what happened on the server.
 *
 * <p>Read the log of a stopped server: a running server may still hold transactions it has not flushed. A server
 * fsyncs a write to this log before it acknowledges it, so after {@code TestingServer.stop()} (which flushes and
 * closes the log but keeps the data directory) every transaction the server accepted is here, acknowledged or not.
 *
 * <p>What the log holds, and how this class reads it:
 * <ul>
 *   <li>A failed single write is logged as an {@code error} transaction (its session, no path, no data): it is
 *       listed with {@link Txn#applied()} false.</li>
 *   <li>A failed {@code multi} is logged as a {@code multi} whose sub-transactions up to the failing one still carry
 *       their create/setData records (with data) and the rest are errors; the server applies none of them. It is
 *       listed with {@link Txn#applied()} false, so its data never counts as written.</li>
 *   <li>A {@code delete} record holds only the path. This class replays the log from the empty tree (the server must
 *       have started empty, as a fresh {@code TestingServer} does) and fills in what was deleted: the
 *       {@link Incarnation} (the create that made that node, its version and last data at the moment of the
 *       delete).</li>
 * </ul>
 *
 * <p>Immutable once read.
 */
public final class TxnLogOracle {

    /** The kind of one node write inside a transaction. */
    public enum OpType {
        /** A node was created. */
        CREATE,
        /** A node's data was set. */
        SET_DATA,
        /** A node was deleted. */
        DELETE,
        /** A version check of a {@code multi}; it writes nothing. */
        CHECK,
        /** An operation of a {@code multi} that failed as a whole: the server logs each as an error, none applied. */
        ERROR
    }

    /**
     * One lifetime of a node at a path: from the create at {@code createZxid} to its delete.
     *
     * @param createPayload the data it was created with (UTF-8)
     * @param version its data version at the time this value was taken
     * @param lastPayload its data at that time (UTF-8)
     */
    public record Incarnation(String path, long createZxid, String createPayload, int version, String lastPayload) {
        @Override
        public String toString() {
            return path + "@0x" + Long.toHexString(createZxid) + "(created \"" + createPayload + "\", v" + version
                    + ", data \"" + lastPayload + "\")";
        }
    }

    /**
     * One node write.
     *
     * @param version CREATE: 0; SET_DATA: the node's new version (the log records it); DELETE: the version the node
     *     had when deleted (from the replay; -1 if the transaction was not applied); CHECK: the expected version
     * @param payload the data as UTF-8 (CREATE, SET_DATA), else null
     * @param deleted DELETE of an applied transaction: the node it removed; else null
     */
    public record Op(OpType type, String path, String payload, int version, Incarnation deleted) {
        @Override
        public String toString() {
            switch (type) {
                case CREATE:
                    return "create " + path + " \"" + payload + "\"";
                case SET_DATA:
                    return "setData " + path + " \"" + payload + "\" ->v" + version;
                case DELETE:
                    return "delete " + (deleted != null ? deleted.toString() : path);
                case CHECK:
                    return "check " + path + " v" + version;
                default:
                    return "error";
            }
        }
    }

    /**
     * One logged transaction.
     *
     * @param multi whether it is a {@code multi} (its ops are the sub-transactions)
     * @param applied false for an {@code error} transaction and for a failed multi (nothing of it was applied)
     * @param ops the node writes; empty for session transactions (createSession, closeSession)
     */
    public record Txn(
            long zxid, long sessionId, long timeMillis, int opCode, boolean multi, boolean applied, List<Op> ops) {
        @Override
        public String toString() {
            return "0x" + Long.toHexString(zxid) + " session 0x" + Long.toHexString(sessionId) + " "
                    + (multi
                            ? "multi" + ops + (applied ? "" : " (failed, not applied)")
                            : applied
                                    ? (ops.isEmpty()
                                            ? "opcode " + opCode
                                            : ops.get(0).toString())
                                    : "error (not applied)");
        }
    }

    private final List<Txn> txns;
    private final Map<String, List<Txn>> appliedByPayload;

    private TxnLogOracle(List<Txn> txns) {
        this.txns = Collections.unmodifiableList(txns);
        Map<String, List<Txn>> byPayload = new HashMap<>();
        for (Txn txn : txns) {
            if (!txn.applied()) {
                continue;
            }
            for (Op op : txn.ops()) {
                if (op.payload() != null) {
                    List<Txn> list = byPayload.computeIfAbsent(op.payload(), p -> new ArrayList<>());
                    if (list.isEmpty() || list.get(list.size() - 1) != txn) {
                        list.add(txn);
                    }
                }
            }
        }
        this.appliedByPayload = byPayload;
    }

    /**
     * Reads every transaction log of a server's data directory ({@code <dataDir>/version-2/log.*}).
     *
     * @param dataDir the server's data directory
     * @return the transactions read
     * @throws IllegalArgumentException when there is no log there
     * @throws UncheckedIOException when a log cannot be read (for example a torn record of a running server)
     */
    public static TxnLogOracle read(File dataDir) {
        File logDir = new File(dataDir, "version-2");
        File[] files = logDir.listFiles((d, name) -> name.startsWith(FileTxnLog.LOG_FILE_PREFIX + "."));
        if (files == null || files.length == 0) {
            throw new IllegalArgumentException("no transaction log under " + logDir);
        }
        List<Txn> txns = new ArrayList<>();
        Replay replay = new Replay();
        try (FileTxnLog log = new FileTxnLog(logDir)) {
            TxnIterator it = log.read(0);
            try {
                while (it.getHeader() != null) {
                    txns.add(replay.apply(it.getHeader(), it.getTxn()));
                    if (!it.next()) {
                        break;
                    }
                }
            } finally {
                it.close();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not read the transaction log under " + logDir, e);
        }
        return new TxnLogOracle(txns);
    }

    /**
     * Every transaction, in zxid order.
     *
     * @return an unmodifiable list of the transactions
     */
    public List<Txn> txns() {
        return txns;
    }

    /**
     * The applied transactions (in zxid order) with a create or setData whose data is {@code payload} (UTF-8).
     *
     * @param payload the data to look for, as text
     * @return the matching transactions, possibly none
     */
    public List<Txn> appliedWithPayload(String payload) {
        return appliedByPayload.getOrDefault(payload, List.of());
    }

    /** Applies transactions to a model of the tree, to say what each delete removed. */
    private static final class Replay {
        private final Map<String, Incarnation> live = new LinkedHashMap<>();

        Txn apply(TxnHeader header, Record record) throws IOException {
            int type = header.getType();
            long zxid = header.getZxid();
            List<Op> ops = new ArrayList<>();
            boolean applied;
            boolean multi = type == OpCode.multi;
            if (multi) {
                List<Op> raw = new ArrayList<>();
                for (org.apache.zookeeper.txn.Txn sub : ((MultiTxn) record).getTxns()) {
                    raw.add(decode(sub.getType(), subRecord(sub)));
                }
                applied = raw.stream().noneMatch(op -> op.type() == OpType.ERROR);
                for (Op op : raw) {
                    ops.add(applied ? replay(op, zxid) : op);
                }
            } else if (type == OpCode.error) {
                applied = false;
            } else {
                Op op = decode(type, record);
                applied = op != null;
                if (op != null) {
                    ops.add(replay(op, zxid));
                }
            }
            return new Txn(zxid, header.getClientId(), header.getTime(), type, multi, applied, List.copyOf(ops));
        }

        private Op replay(Op op, long zxid) {
            switch (op.type()) {
                case CREATE:
                    live.put(op.path(), new Incarnation(op.path(), zxid, op.payload(), 0, op.payload()));
                    return op;
                case SET_DATA: {
                    Incarnation node = live.get(op.path());
                    if (node != null) {
                        live.put(
                                op.path(),
                                new Incarnation(
                                        node.path(),
                                        node.createZxid(),
                                        node.createPayload(),
                                        op.version(),
                                        op.payload()));
                    }
                    return op;
                }
                case DELETE: {
                    Incarnation node = live.remove(op.path());
                    return new Op(OpType.DELETE, op.path(), null, node == null ? -1 : node.version(), node);
                }
                default:
                    return op;
            }
        }

        private static Record subRecord(org.apache.zookeeper.txn.Txn sub) throws IOException {
            Record record;
            switch (sub.getType()) {
                case OpCode.create:
                case OpCode.create2:
                    record = new CreateTxn();
                    break;
                case OpCode.createTTL:
                    record = new CreateTTLTxn();
                    break;
                case OpCode.createContainer:
                    record = new CreateContainerTxn();
                    break;
                case OpCode.delete:
                case OpCode.deleteContainer:
                    record = new DeleteTxn();
                    break;
                case OpCode.setData:
                    record = new SetDataTxn();
                    break;
                case OpCode.check:
                    record = new CheckVersionTxn();
                    break;
                case OpCode.error:
                    record = new ErrorTxn();
                    break;
                default:
                    throw new IOException("unknown multi sub-transaction type " + sub.getType());
            }
            ByteBufferInputStream.byteBuffer2Record(ByteBuffer.wrap(sub.getData()), record);
            return record;
        }

        /** The node write of a record, or null for transactions that write no node (sessions). */
        private static Op decode(int type, Record record) {
            if (record instanceof CreateTxn create) {
                return new Op(OpType.CREATE, create.getPath(), utf8(create.getData()), 0, null);
            }
            if (record instanceof CreateTTLTxn create) {
                return new Op(OpType.CREATE, create.getPath(), utf8(create.getData()), 0, null);
            }
            if (record instanceof CreateContainerTxn create) {
                return new Op(OpType.CREATE, create.getPath(), utf8(create.getData()), 0, null);
            }
            if (record instanceof SetDataTxn set && type == OpCode.setData) {
                return new Op(OpType.SET_DATA, set.getPath(), utf8(set.getData()), set.getVersion(), null);
            }
            if (record instanceof DeleteTxn delete) {
                return new Op(OpType.DELETE, delete.getPath(), null, -1, null);
            }
            if (record instanceof CheckVersionTxn check) {
                return new Op(OpType.CHECK, check.getPath(), null, check.getVersion(), null);
            }
            if (record instanceof ErrorTxn) {
                return new Op(OpType.ERROR, null, null, -1, null);
            }
            return null;
        }

        private static String utf8(byte[] data) {
            return data == null ? "" : new String(data, StandardCharsets.UTF_8);
        }
    }
}
