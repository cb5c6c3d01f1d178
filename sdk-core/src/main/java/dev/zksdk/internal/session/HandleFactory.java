package dev.zksdk.internal.session;

import dev.zksdk.ZkAuthException;
import dev.zksdk.hosts.BudgetedZooKeeper;
import org.apache.curator.utils.ZookeeperFactory;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates handles through the host-selection factory, on a thread named after the session so that ZooKeeper's
 * SendThread and EventThread (named after their creator) say which pool and session they belong to, and
 * remembers why a handle could not be made.
 */
final class HandleFactory implements ZookeeperFactory {

    private static final Logger log = LoggerFactory.getLogger(HandleFactory.class);

    private final String label;
    private final ZookeeperFactory delegate;
    private final SharedSession session;

    HandleFactory(String label, ZookeeperFactory delegate, SharedSession session) {
        this.label = label;
        this.delegate = delegate;
        this.session = session;
    }

    @Override
    public ZooKeeper newZooKeeper(String connectString, int sessionTimeout, Watcher watcher, boolean canBeReadOnly)
            throws Exception {
        return newZooKeeper(connectString, sessionTimeout, watcher, canBeReadOnly, new ZKClientConfig());
    }

    @Override
    public ZooKeeper newZooKeeper(
            String connectString,
            int sessionTimeout,
            Watcher watcher,
            boolean canBeReadOnly,
            ZKClientConfig clientConfig)
            throws Exception {
        Thread current = Thread.currentThread();
        String original = current.getName();
        current.setName(label);
        try {
            ZkAuthException refused = session.authFailure();
            if (refused != null) {
                throw refused; // Curator replacing a handle after an authentication failure: nothing may try again
            }
            // The session's own config, never Curator's or a JVM-wide one: see SessionClientConfig.
            ZKClientConfig ownConfig = session.newClientConfig();
            SharedSession.HandleWatcher handleWatcher = session.newHandleWatcher(watcher);
            ZooKeeper zk;
            try {
                zk = delegate.newZooKeeper(connectString, sessionTimeout, handleWatcher, canBeReadOnly, ownConfig);
            } catch (Exception | Error e) {
                handleWatcher.abandon();
                throw e;
            }
            if (zk instanceof BudgetedZooKeeper) {
                ((BudgetedZooKeeper) zk).closeOnlyThroughCurator();
                ((BudgetedZooKeeper) zk).capabilities(session.features());
                ((BudgetedZooKeeper) zk).onPersistentWatchesDropped(session::persistentWatchesDropped);
            }
            handleWatcher.attach(zk);
            session.handleMade(null);
            return zk;
        } catch (Exception | Error e) {
            session.handleMade(e);
            log.warn("{}: could not create a ZooKeeper handle: {}", label, e.getMessage());
            throw e;
        } finally {
            current.setName(original);
        }
    }
}
