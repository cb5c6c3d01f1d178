package dev.zksdk.spring.aot;

import java.util.List;
import java.util.function.Consumer;
import org.springframework.aot.hint.ExecutableMode;
import org.springframework.aot.hint.MemberCategory;
import org.springframework.aot.hint.ReflectionHints;
import org.springframework.aot.hint.RuntimeHints;
import org.springframework.aot.hint.RuntimeHintsRegistrar;
import org.springframework.aot.hint.TypeHint;
import org.springframework.aot.hint.TypeReference;

/**
 * Reflection hints for a GraalVM native image of an application that uses zk-sdk: what ZooKeeper, Curator, JAAS and
 * zk-sdk itself reach by name at run time, which a native image keeps only when told. Registered in
 * {@code META-INF/spring/aot.factories}, so Spring's AOT processing ({@code process-aot}) writes them into the
 * application's {@code META-INF/native-image/.../reachability-metadata.json}; nothing here runs on a JVM.
 *
 * <ul>
 *   <li>ZooKeeper's client socket, made by name ({@code zookeeper.clientCnxnSocket}) through its package-private
 *       constructor taking a {@code ZKClientConfig}: {@code ClientCnxnSocketNIO} (the default) and
 *       {@code ClientCnxnSocketNetty} (TLS, and SASL with credentials).
 *   <li>The ZooKeeper and Curator internals zk-sdk reads or sets by reflection: the connection-attempt bound and the
 *       received-packet count of a handle ({@code ClientCnxn}, its {@code SendThread}, {@code ClientCnxnSocket}), the
 *       local watch table ({@code ZooKeeper.getWatchManager}, {@code ZKWatchManager.removeWatcher}), Curator's client
 *       and compatibility fields ({@code CuratorFrameworkImpl}), zk-sdk's own var handle of an asynchronous call, and
 *       {@code Thread.isVirtual()} (JDK 21+), which zk-sdk looks up to send a virtual thread's synchronous call
 *       asynchronously.
 *       Without them zk-sdk falls back as on a ZooKeeper or Curator version without these members (logged once).
 *   <li>What Curator's {@code Compatibility} probes by name: {@code AddWatchMode} (persistent watches), and for
 *       following ensemble changes {@code MultipleAddresses.getReachableOrOne} and {@code QuorumServer.addr}.
 *   <li>SASL: the JAAS configuration provider the JDK instantiates by name ({@code sun.security.provider.ConfigFile})
 *       and the login modules {@code SaslConfig} names ({@code DigestLoginModule}, {@code Krb5LoginModule}), which a
 *       {@code LoginContext} instantiates by name.
 * </ul>
 *
 * A type missing from the class path (another ZooKeeper or Curator version, a JDK without Kerberos) is skipped.
 */
public class ZkSdkRuntimeHints implements RuntimeHintsRegistrar {

    /** The client sockets ZooKeeper instantiates by name; the first is its default. */
    public static final List<String> CLIENT_SOCKETS =
            List.of("org.apache.zookeeper.ClientCnxnSocketNIO", "org.apache.zookeeper.ClientCnxnSocketNetty");

    private static final TypeReference ZK_CLIENT_CONFIG =
            TypeReference.of("org.apache.zookeeper.client.ZKClientConfig");

    @Override
    public void registerHints(RuntimeHints hints, ClassLoader classLoader) {
        ReflectionHints reflection = hints.reflection();
        for (String socket : CLIENT_SOCKETS) {
            register(
                    reflection,
                    classLoader,
                    socket,
                    type -> type.withConstructor(List.of(ZK_CLIENT_CONFIG), ExecutableMode.INVOKE));
        }

        // dev.zksdk.hosts.BudgetedZooKeeper: ConnectAttempts and ReceivedCount.
        register(
                reflection,
                classLoader,
                "org.apache.zookeeper.ClientCnxn",
                type -> type.withField("connectTimeout").withField("sendThread"));
        register(
                reflection,
                classLoader,
                "org.apache.zookeeper.ClientCnxn$SendThread",
                type -> type.withField("clientCnxnSocket").withField("isFirstConnect"));
        register(
                reflection,
                classLoader,
                "org.apache.zookeeper.ClientCnxnSocket",
                type -> type.withField("lastSend").withField("recvCount"));
        // dev.zksdk.hosts.LocalWatchRemoval.
        register(
                reflection,
                classLoader,
                "org.apache.zookeeper.ZooKeeper",
                type -> type.withMethod("getWatchManager", List.of(), ExecutableMode.INVOKE));
        register(
                reflection,
                classLoader,
                "org.apache.zookeeper.ZKWatchManager",
                type -> type.withMethod(
                        "removeWatcher",
                        List.of(
                                TypeReference.of(String.class),
                                TypeReference.of("org.apache.zookeeper.Watcher"),
                                TypeReference.of("org.apache.zookeeper.Watcher$WatcherType"),
                                TypeReference.of(boolean.class),
                                TypeReference.of(int.class)),
                        ExecutableMode.INVOKE));
        // dev.zksdk.internal.session.GuardedZookeeperClient.
        register(
                reflection,
                classLoader,
                "org.apache.curator.framework.imps.CuratorFrameworkImpl",
                type -> type.withField("client").withField("zookeeperCompatibility"));
        // dev.zksdk.internal.pipeline.OperationRunner: findVarHandle(AsyncCall.class, "done", boolean.class).
        register(
                reflection,
                classLoader,
                "dev.zksdk.internal.pipeline.OperationRunner$AsyncCall",
                type -> type.withField("done"));
        // dev.zksdk.internal.pipeline.VirtualCallers: Thread.isVirtual() through a method handle (JDK 21+; the core is
        // compiled for 17). Without it a native image treats every caller as a platform thread.
        reflection.registerType(Thread.class, type -> type.withMethod("isVirtual", List.of(), ExecutableMode.INVOKE));

        // org.apache.curator.utils.Compatibility.
        register(reflection, classLoader, "org.apache.zookeeper.AddWatchMode", type -> {});
        register(
                reflection,
                classLoader,
                "org.apache.zookeeper.server.quorum.MultipleAddresses",
                type -> type.withMethod("getReachableOrOne", List.of(), ExecutableMode.INVOKE));
        register(
                reflection,
                classLoader,
                "org.apache.zookeeper.server.quorum.QuorumPeer$QuorumServer",
                type -> type.withField("addr"));

        // JAAS: javax.security.auth.login.Configuration.getConfiguration() and LoginContext.
        for (String byName : List.of(
                "sun.security.provider.ConfigFile",
                "org.apache.zookeeper.server.auth.DigestLoginModule",
                "com.sun.security.auth.module.Krb5LoginModule")) {
            register(
                    reflection,
                    classLoader,
                    byName,
                    type -> type.withMembers(MemberCategory.INVOKE_PUBLIC_CONSTRUCTORS));
        }
    }

    private static void register(
            ReflectionHints reflection, ClassLoader classLoader, String type, Consumer<TypeHint.Builder> members) {
        reflection.registerTypeIfPresent(classLoader, type, members);
    }
}
