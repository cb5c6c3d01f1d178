package dev.zksdk.compat;

/** The compatibility suite against a standalone ZooKeeper 3.7.2 server. */
class Zk37CompatibilityIT extends ServerCompatibilityContract {

    @Override
    String version() {
        return "3.7.2";
    }
}
