package dev.zksdk.compat;

/** The compatibility suite against a standalone ZooKeeper 3.4.14 server. */
class Zk34CompatibilityIT extends ServerCompatibilityContract {

    @Override
    String version() {
        return "3.4.14";
    }
}
