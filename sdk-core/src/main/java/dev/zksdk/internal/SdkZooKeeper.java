package dev.zksdk.internal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;

/** ZooKeeper's client, with the connected server made visible (ZooKeeper keeps it behind a protected method). */
public final class SdkZooKeeper extends ZooKeeper {

  public SdkZooKeeper(String connectString, int sessionTimeout, Watcher watcher, boolean canBeReadOnly,
      ZKClientConfig clientConfig) throws IOException {
    super(connectString, sessionTimeout, watcher, canBeReadOnly, clientConfig);
  }

  /** The address this handle is connected to, or null while not connected. */
  public InetSocketAddress remoteAddress() {
    SocketAddress address = testableRemoteSocketAddress();
    return address instanceof InetSocketAddress ? (InetSocketAddress) address : null;
  }

  /** The address a handle is connected to, for any handle. */
  public static InetSocketAddress remoteAddress(ZooKeeper zk) {
    return zk instanceof SdkZooKeeper ? ((SdkZooKeeper) zk).remoteAddress() : null;
  }
}
