/**
 * Server selection for the SDK's ZooKeeper sessions: which server each session connects to, and how often
 * sessions are created.
 *
 * <ul>
 *   <li>{@link dev.zksdk.hosts.WeightedHostProvider} — ZooKeeper's {@code HostProvider} of one session:
 *       weighted random order, quarantine of failing servers, jittered reconnect delays, rebalancing on
 *       membership change;</li>
 *   <li>{@link dev.zksdk.hosts.SessionSpread} — shared by one pool's sessions of one ensemble: spreads them
 *       over distinct servers and shares quarantine;</li>
 *   <li>{@link dev.zksdk.hosts.ConnectionBudget} — process-wide connections per server, kept below the
 *       servers' {@code maxClientCnxns};</li>
 *   <li>{@link dev.zksdk.hosts.SessionCreationLimiter} — process-wide rate of new sessions, protecting the
 *       servers' accept queues;</li>
 *   <li>{@link dev.zksdk.hosts.HostsZookeeperFactory} — wires all of it into Curator.</li>
 * </ul>
 */
package dev.zksdk.hosts;
