package dev.zksdk.compat;

/** The compatibility suite against a standalone ZooKeeper 3.6.4 server. */
class Zk36CompatibilityIT extends ServerCompatibilityContract {

    @Override
    String version() {
        return "3.6.4";
    }
}
