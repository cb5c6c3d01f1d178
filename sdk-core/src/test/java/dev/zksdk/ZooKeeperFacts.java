package dev.zksdk;

import dev.zksdk.testing.ForcedExpiry;
import org.apache.zookeeper.ZooKeeper;

/** Test helpers that reach under a lease to the session it is pinned to. */
final class ZooKeeperFacts {

    private ZooKeeperFacts() {}

    /** Forces a real server-side expiry of the lease's current session. */
    static void expire(ZkLease lease, String connectString) throws Exception {
        ZooKeeper zk = lease.curator().getZookeeperClient().getZooKeeper();
        ForcedExpiry.expireSession(connectString, zk.getSessionId(), zk.getSessionPasswd());
    }
}
