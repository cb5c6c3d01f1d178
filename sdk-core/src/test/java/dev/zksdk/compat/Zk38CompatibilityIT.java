package dev.zksdk.compat;

/** The compatibility suite against a standalone ZooKeeper 3.8.4 server. */
class Zk38CompatibilityIT extends ServerCompatibilityContract {

    @Override
    String version() {
        return "3.8.4";
    }
}
