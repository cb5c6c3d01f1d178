package dev.zksdk.compat;

/** The compatibility suite against a standalone ZooKeeper 3.9 server (the project's own version). */
class Zk39CompatibilityIT extends ServerCompatibilityContract {

    @Override
    String version() {
        return "3.9";
    }
}
