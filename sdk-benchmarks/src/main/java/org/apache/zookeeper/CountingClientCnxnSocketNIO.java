package org.apache.zookeeper;

import dev.zksdk.benchmarks.ConnectCounter;
import java.io.IOException;
import java.net.InetSocketAddress;
import org.apache.zookeeper.client.ZKClientConfig;

/**
* ZooKeeper's own NIO client socket, counting every TCP connection it opens in {@link ConnectCounter}.
*
* <p>ZooKeeper picks its client socket class from the {@code zookeeper.clientCnxnSocket} setting, so the raw client,
* Curator and the SDK all use this one once the benchmarks set it. It lives in ZooKeeper's package because the socket's
* connect hook is package-private there; it changes nothing but the count.
*/
public class CountingClientCnxnSocketNIO extends ClientCnxnSocketNIO {

  public CountingClientCnxnSocketNIO(ZKClientConfig clientConfig) throws IOException {
    super(clientConfig);
  }

  @Override
  void connect(InetSocketAddress addr) throws IOException {
    ConnectCounter.connectAttempted();
    super.connect(addr);
  }
}
