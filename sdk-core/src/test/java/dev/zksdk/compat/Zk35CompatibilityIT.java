package dev.zksdk.compat;

/** The compatibility suite against a standalone ZooKeeper 3.5.10 server. */
class Zk35CompatibilityIT extends ServerCompatibilityContract {

    @Override
    String version() {
        return "3.5.10";
    }
}
