package dev.zksdk.diagnostics;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A connect string as the doctor probes it: the servers, once each, and the chroot. Parsed by the SDK's one parser
 * ({@link dev.zksdk.internal.ConnectString}): a missing port is an error, since a diagnostics tool must probe exactly
 * the servers the user meant.
 */
record ConnectString(String original, List<HostAndPort> servers, String chroot) {

    static ConnectString parse(String connectString) {
        dev.zksdk.internal.ConnectString parsed =
                dev.zksdk.internal.ConnectString.parse("connectString", connectString);
        Set<HostAndPort> servers = new LinkedHashSet<>();
        for (dev.zksdk.internal.ConnectString.Address a : parsed.addresses()) {
            servers.add(new HostAndPort(a.host(), a.port()));
        }
        return new ConnectString(
                connectString, Collections.unmodifiableList(new ArrayList<>(servers)), parsed.chroot());
    }
}
