package dev.zksdk.internal;

import org.apache.zookeeper.Watcher;

/**
 * A watcher the pool itself registers on a handle (a lease's watch, a cache's), as opposed to one a user set through
 * {@code lease.curator()}: when a handle has to drop its persistent watches (a server before 3.6 met after the pool
 * learnt 3.6+), the pool re-arms its own in a form the servers know, and tells the others they were removed.
 */
public interface PoolWatcher extends Watcher {}
