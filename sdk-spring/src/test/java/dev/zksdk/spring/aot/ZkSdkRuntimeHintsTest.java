package dev.zksdk.spring.aot;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.List;
import java.util.function.Predicate;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.imps.CuratorFrameworkImpl;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.ClientCnxn;
import org.apache.zookeeper.ClientCnxnSocketNIO;
import org.apache.zookeeper.ClientCnxnSocketNetty;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.server.auth.DigestLoginModule;
import org.apache.zookeeper.server.quorum.MultipleAddresses;
import org.apache.zookeeper.server.quorum.QuorumPeer;
import org.junit.jupiter.api.Test;
import org.springframework.aot.hint.ExecutableMode;
import org.springframework.aot.hint.MemberCategory;
import org.springframework.aot.hint.RuntimeHints;
import org.springframework.aot.hint.RuntimeHintsRegistrar;
import org.springframework.aot.hint.TypeHint;
import org.springframework.aot.hint.TypeReference;
import org.springframework.aot.hint.predicate.ReflectionHintsPredicates;
import org.springframework.aot.hint.predicate.RuntimeHintsPredicates;
import org.springframework.core.io.support.SpringFactoriesLoader;

/**
 * The hints Spring's AOT processing collects for zk-sdk, as it collects them (every {@link RuntimeHintsRegistrar} in
 * {@code META-INF/spring/aot.factories}), checked against the members of the ZooKeeper and Curator on the class path,
 * found the way ZooKeeper, Curator and zk-sdk find them at run time: a renamed member fails here rather than in a
 * native image.
 */
class ZkSdkRuntimeHintsTest {

    private static final ReflectionHintsPredicates REFLECTION = RuntimeHintsPredicates.reflection();

    private final RuntimeHints hints = collected();

    /** As Spring's {@code RuntimeHintsBeanFactoryInitializationAotProcessor} does. */
    private static RuntimeHints collected() {
        RuntimeHints hints = new RuntimeHints();
        List<RuntimeHintsRegistrar> registrars = SpringFactoriesLoader.forResourceLocation(
                        "META-INF/spring/aot.factories")
                .load(RuntimeHintsRegistrar.class);
        assertThat(registrars).hasAtLeastOneElementOfType(ZkSdkRuntimeHints.class);
        ClassLoader classLoader = ZkSdkRuntimeHintsTest.class.getClassLoader();
        registrars.forEach(registrar -> registrar.registerHints(hints, classLoader));
        return hints;
    }

    private void assertHinted(String what, Predicate<RuntimeHints> predicate) {
        assertThat(predicate.test(hints)).as(what).isTrue();
    }

    @Test
    void everyClientSocketCanBeMadeByName() throws Exception {
        // ZooKeeper's default, and the one zk-sdk sets for TLS (SessionClientConfig)
        assertThat(ZkSdkRuntimeHints.CLIENT_SOCKETS)
                .contains(ClientCnxnSocketNIO.class.getName(), ClientCnxnSocketNetty.class.getName());
        for (String name : ZkSdkRuntimeHints.CLIENT_SOCKETS) {
            // ZooKeeper.getClientCnxnSocket(): Class.forName(name).getDeclaredConstructor(ZKClientConfig.class)
            Class<?> socket = Class.forName(name);
            assertThat(Class.forName("org.apache.zookeeper.ClientCnxnSocket")).isAssignableFrom(socket);
            assertHinted(name, REFLECTION.onType(socket));
            assertHinted(
                    name + "(ZKClientConfig)",
                    REFLECTION.onConstructorInvocation(socket.getDeclaredConstructor(ZKClientConfig.class)));
        }
    }

    @Test
    void theZooKeeperInternalsZkSdkReachesAreHinted() throws Exception {
        // dev.zksdk.hosts.BudgetedZooKeeper, found the way it finds them.
        Field sendThread = ClientCnxn.class.getDeclaredField("sendThread");
        Field socket = sendThread.getType().getDeclaredField("clientCnxnSocket");
        for (Field field : List.of(
                ClientCnxn.class.getDeclaredField("connectTimeout"),
                sendThread,
                socket,
                socket.getType().getDeclaredField("lastSend"),
                socket.getType().getDeclaredField("recvCount"),
                sendThread.getType().getDeclaredField("isFirstConnect"))) {
            assertHinted(field.toString(), REFLECTION.onFieldAccess(field));
        }
        // dev.zksdk.hosts.LocalWatchRemoval
        var watchManager = ZooKeeper.class.getDeclaredMethod("getWatchManager");
        assertHinted(watchManager.toString(), REFLECTION.onMethodInvocation(watchManager));
        var removeWatcher = watchManager
                .getReturnType()
                .getMethod(
                        "removeWatcher",
                        String.class,
                        Watcher.class,
                        Watcher.WatcherType.class,
                        boolean.class,
                        int.class);
        assertHinted(removeWatcher.toString(), REFLECTION.onMethodInvocation(removeWatcher));
        // dev.zksdk.internal.pipeline.OperationRunner's var handle
        Field done = Class.forName("dev.zksdk.internal.pipeline.OperationRunner$AsyncCall")
                .getDeclaredField("done");
        assertHinted(done.toString(), REFLECTION.onFieldAccess(done));
    }

    @Test
    void threadIsVirtualIsHintedForTheVirtualCallerCheck() throws Exception {
        // dev.zksdk.internal.pipeline.VirtualCallers: publicLookup().findVirtual(Thread.class, "isVirtual", boolean()).
        // On any JDK: the hint names the method (it exists from JDK 21; this build may run on 17).
        TypeHint thread = hints.reflection().getTypeHint(Thread.class);
        assertThat(thread).as("a reflection hint on java.lang.Thread").isNotNull();
        assertThat(thread.methods())
                .as("Thread.isVirtual() invocable")
                .anyMatch(m -> m.getName().equals("isVirtual")
                        && m.getParameterTypes().isEmpty()
                        && m.getMode() == ExecutableMode.INVOKE);
        // On JDK 21+: the predicate Spring's own tests use, against the real method.
        Method isVirtual;
        try {
            isVirtual = Thread.class.getMethod("isVirtual");
        } catch (NoSuchMethodException beforeJdk21) {
            return;
        }
        assertHinted(isVirtual.toString(), REFLECTION.onMethodInvocation(isVirtual));
    }

    @Test
    void theCuratorInternalsZkSdkAndCuratorReachAreHinted() throws Exception {
        // dev.zksdk.internal.session.GuardedZookeeperClient reads framework.getClass(): the class Curator builds.
        Class<?> framework;
        try (var curator = CuratorFrameworkFactory.newClient("127.0.0.1:1", new RetryOneTime(1))) {
            framework = curator.getClass();
        }
        assertThat(framework).isEqualTo(CuratorFrameworkImpl.class);
        for (String name : List.of("client", "zookeeperCompatibility")) {
            assertHinted(name, REFLECTION.onFieldAccess(framework.getDeclaredField(name)));
        }
        // org.apache.curator.utils.Compatibility
        assertHinted("AddWatchMode", REFLECTION.onType(AddWatchMode.class));
        assertHinted(
                "getReachableOrOne",
                REFLECTION.onMethodInvocation(MultipleAddresses.class.getMethod("getReachableOrOne")));
        assertHinted("QuorumServer.addr", REFLECTION.onFieldAccess(QuorumPeer.QuorumServer.class.getField("addr")));
    }

    @Test
    void jaasCanMakeItsConfigurationAndTheLoginModulesSaslConfigNames() throws Exception {
        assertHinted(
                "DigestLoginModule()", REFLECTION.onConstructorInvocation(DigestLoginModule.class.getConstructor()));
        assertThat(dev.zksdk.security.SaslConfig.DIGEST_LOGIN_MODULE).isEqualTo(DigestLoginModule.class.getName());
        for (String jdk : List.of("sun.security.provider.ConfigFile", "com.sun.security.auth.module.Krb5LoginModule")) {
            assertHinted(
                    jdk,
                    REFLECTION
                            .onType(TypeReference.of(jdk))
                            .withMemberCategory(MemberCategory.INVOKE_PUBLIC_CONSTRUCTORS));
        }
    }
}
