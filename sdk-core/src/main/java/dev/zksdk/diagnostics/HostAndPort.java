package dev.zksdk.diagnostics;

/** A server address as written in a connect string; IPv6 literals are kept without brackets. */
record HostAndPort(String host, int port) {

    boolean isIpv6Literal() {
        return host.indexOf(':') >= 0;
    }

    /** {@code host:port}, with IPv6 literals in brackets. */
    @Override
    public String toString() {
        return (isIpv6Literal() ? "[" + host + "]" : host) + ":" + port;
    }
}
