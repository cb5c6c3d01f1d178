package dev.zksdk.compat;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.zksdk.EphemeralNode;
import dev.zksdk.ZkLease;
import dev.zksdk.ZkSessionPool;
import dev.zksdk.testing.ProcessEnsemble;
import dev.zksdk.testing.ServerProcess;
import dev.zksdk.testing.TxnLogOracle;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.junit.jupiter.api.Test;

/**
 * An ensemble whose members do not whitelist {@code srvr} (a hardened set-up: {@code 4lw.commands.whitelist} without
 * it) answers the pool's version question with a refusal. Such a member is up and answered: it must not be taken for a
 * silent member of unknown (maybe old) version, which would hold every pool of that ensemble to ZooKeeper 3.4's
 * requests (persistent parents, no persistent watches) for good.
 */
class MembersWithoutSrvrIT {

    /**
     * Whether the ensemble created {@code path} as a container node, from the transaction logs of its members (a
     * committed create is in the log of a majority).
     */
    static boolean createdAsContainer(ProcessEnsemble ens, String path) {
        for (ServerProcess member : ens.servers()) {
            Optional<Boolean> container = TxnLogOracle.read(
                            member.directory().resolve("data").toFile())
                    .txns()
                    .stream()
                    .filter(t -> t.applied()
                            && t.ops().stream()
                                    .anyMatch(op -> op.type() == TxnLogOracle.OpType.CREATE
                                            && op.path().equals(path)))
                    .map(t -> t.opCode() == ZooDefs.OpCode.createContainer)
                    .findFirst();
            if (container.isPresent()) {
                return container.get();
            }
        }
        throw new AssertionError("no create of " + path + " in any member's transaction log");
    }

    @Test
    void membersThatRefuseSrvrDoNotHoldTheEnsembleToOldServerRequests() throws Exception {
        try (ProcessEnsemble ens = ProcessEnsemble.builder()
                        .size(3)
                        .fourLetterWordWhitelist("ruok")
                        .start();
                ZkSessionPool pool = ZkSessionPool.builder()
                        .connectString(ens.connectString())
                        .sessionTimeout(Duration.ofSeconds(20))
                        .connectionTimeout(Duration.ofSeconds(30))
                        .build();
                ZkLease lease = pool.lease();
                EphemeralNode node = lease.ephemeral("/hardened/parent/e", "v".getBytes(UTF_8))) {
            assertThat(node.isPresent()).isTrue();
            // The parent is made as a container, as on any 3.5+ ensemble (a persistent parent is the 3.4 emulation);
            // checked in the transaction logs (a Stat does not tell a container).
            assertThat(createdAsContainer(ens, "/hardened/parent")).isTrue();
            // And a container node asked for by name is made, also once the pool has asked the members their version
            // (a few seconds at most): one every 300 ms for 6 s.
            AtomicInteger n = new AtomicInteger();
            await().during(Duration.ofSeconds(6))
                    .atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(300))
                    .until(() -> {
                        String path = "/hardened/c" + n.incrementAndGet();
                        lease.create(path, new byte[0], CreateMode.CONTAINER);
                        return createdAsContainer(ens, path);
                    });
        }
    }
}
