package dev.zksdk;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaCodeUnit;
import com.tngtech.archunit.core.domain.JavaField;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.domain.JavaType;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;
import dev.zksdk.internal.pool.RealSessionPool;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The layout of sdk-core, checked from its classes:
 * <ul>
 *   <li>the API packages use the engine ({@code dev.zksdk.internal.*} subpackages) only through the front door,
 *       {@link ZkSessionPool} building {@link RealSessionPool}; they may use the kernel ({@code dev.zksdk.internal}
 *       itself: argument checks, the connect-string parser), which uses nothing else of the SDK;</li>
 *   <li>no public signature of the API names an internal type;</li>
 *   <li>the engine is layered: pipeline, session, recovery, cache, pool, each using only those below it;</li>
 *   <li>no cycles between the API, the kernel and the engine's packages (but the front door).</li>
 * </ul>
 */
class ArchitectureTest {

    static final String[] API = {
        "dev.zksdk",
        "dev.zksdk.cache",
        "dev.zksdk.hosts",
        "dev.zksdk.metrics..",
        "dev.zksdk.security",
        "dev.zksdk.diagnostics"
    };

    /** {@link ZkSessionPool} and its builder: the one place the API builds the engine. */
    static final DescribedPredicate<JavaClass> FRONT_DOOR = DescribedPredicate.describe(
            "the front door (ZkSessionPool and its builder)",
            (JavaClass c) -> c.getName().equals(ZkSessionPool.class.getName())
                    || c.getName().startsWith(ZkSessionPool.class.getName() + "$"));

    static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
            .importPackages("dev.zksdk");

    @Test
    void theApiUsesTheEngineOnlyThroughTheFrontDoor() {
        noClasses()
                .that()
                .resideInAnyPackage(API)
                .and(DescribedPredicate.not(FRONT_DOOR))
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage("dev.zksdk.internal.(*)..")
                .because("the API may use the kernel (dev.zksdk.internal) but not the engine in its subpackages")
                .check(CLASSES);
        // The front door's only engine class:
        List<String> engine = new ArrayList<>();
        for (JavaClass door : CLASSES.that(FRONT_DOOR)) {
            for (JavaClass c : door.getDirectDependenciesFromSelf().stream()
                    .map(d -> d.getTargetClass())
                    .toList()) {
                if (c.getPackageName().startsWith("dev.zksdk.internal.")) {
                    engine.add(c.getName());
                }
            }
        }
        assertThat(engine).containsOnly(RealSessionPool.class.getName());
    }

    @Test
    void theKernelUsesNothingElseOfTheSdk() {
        List<String> elsewhere = new ArrayList<>(List.of(API));
        elsewhere.add("dev.zksdk.internal.(*)..");
        noClasses()
                .that()
                .resideInAPackage("dev.zksdk.internal")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage(elsewhere.toArray(new String[0]))
                .because("the kernel sits below the API and the engine, so both may use it without a cycle")
                .check(CLASSES);
    }

    @Test
    void noPublicSignatureOfTheApiNamesAnInternalType() {
        List<String> leaks = new ArrayList<>();
        for (JavaClass c : CLASSES) {
            if (!isApi(c) || !c.getModifiers().contains(JavaModifier.PUBLIC)) {
                continue;
            }
            if (c.getRawSuperclass().map(ArchitectureTest::isInternal).orElse(false)) {
                leaks.add(c.getName() + " extends " + c.getRawSuperclass().get().getName());
            }
            for (JavaClass i : c.getRawInterfaces()) {
                if (isInternal(i)) {
                    leaks.add(c.getName() + " implements " + i.getName());
                }
            }
            for (JavaCodeUnit m : c.getCodeUnits()) {
                if (!visible(m.getModifiers())) {
                    continue;
                }
                if (isInternal(m.getRawReturnType())) {
                    leaks.add(
                            m.getFullName() + " returns " + m.getRawReturnType().getName());
                }
                for (JavaClass p : m.getRawParameterTypes()) {
                    if (isInternal(p)) {
                        leaks.add(m.getFullName() + " takes " + p.getName());
                    }
                }
                for (JavaType t : m.getThrowsClause().getTypes()) {
                    if (isInternal(t.toErasure())) {
                        leaks.add(m.getFullName() + " throws " + t.getName());
                    }
                }
            }
            for (JavaField f : c.getFields()) {
                if (visible(f.getModifiers()) && isInternal(f.getRawType())) {
                    leaks.add(f.getFullName() + " is a " + f.getRawType().getName());
                }
            }
        }
        assertThat(leaks).as("public API members naming internal types").isEmpty();
    }

    @Test
    void theEngineIsLayered() {
        String[] order = {"pipeline", "session", "recovery", "cache", "pool"};
        for (int i = 0; i < order.length; i++) {
            for (int j = i + 1; j < order.length; j++) {
                noClasses()
                        .that()
                        .resideInAPackage("dev.zksdk.internal." + order[i] + "..")
                        .should()
                        .dependOnClassesThat()
                        .resideInAPackage("dev.zksdk.internal." + order[j] + "..")
                        .because(order[i] + " is below " + order[j] + ": it tells through a port, it does not call up")
                        .check(CLASSES);
            }
        }
    }

    @Test
    void thePackagesAreFreeOfCyclesButTheFrontDoor() {
        slices().assignedFrom(new SliceAssignment() {
                    @Override
                    public SliceIdentifier getIdentifierOf(JavaClass c) {
                        String p = c.getPackageName();
                        if (p.startsWith("dev.zksdk.internal.")) {
                            return SliceIdentifier.of(
                                    p.substring("dev.zksdk.internal.".length()).split("\\.")[0]);
                        }
                        if (p.equals("dev.zksdk.internal")) {
                            return SliceIdentifier.of("kernel");
                        }
                        return p.startsWith("dev.zksdk") ? SliceIdentifier.of("api") : SliceIdentifier.ignore();
                    }

                    @Override
                    public String getDescription() {
                        return "the API, the kernel and each engine package";
                    }
                })
                .should()
                .beFreeOfCycles()
                .ignoreDependency(
                        FRONT_DOOR,
                        DescribedPredicate.describe(
                                "the pool's engine",
                                (JavaClass c) -> c.getName().equals(RealSessionPool.class.getName())))
                .check(CLASSES);
    }

    private static boolean isApi(JavaClass c) {
        String p = c.getPackageName();
        return p.startsWith("dev.zksdk") && !p.startsWith("dev.zksdk.internal");
    }

    private static boolean isInternal(JavaClass c) {
        return c.getPackageName().startsWith("dev.zksdk.internal");
    }

    private static boolean visible(Set<JavaModifier> modifiers) {
        return modifiers.contains(JavaModifier.PUBLIC) || modifiers.contains(JavaModifier.PROTECTED);
    }
}
