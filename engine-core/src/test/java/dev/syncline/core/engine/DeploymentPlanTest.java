package dev.syncline.core.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.spi.storage.RulesVersion;
import dev.syncline.spi.storage.RulesVersion.State;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Deployments decided from the versions in storage alone: no engine, no storage. */
class DeploymentPlanTest {
  static final String A = "      - SELECT * FROM lists\n";
  static final String B = "      - SELECT * FROM todos\n";
  static final String B2 = "      - SELECT * FROM todos WHERE done = 0\n";
  static final String C = "      - SELECT * FROM notes\n";

  static String rules(String a, String b) {
    return "bucket_definitions:\n  a:\n    data:\n" + a + "  b:\n    data:\n" + b;
  }

  static String rules(String a, String b, String c) {
    return rules(a, b) + "  c:\n    data:\n" + c;
  }

  @Test
  void theFirstRulesBecomeAVersionThatServesAtOnce() {
    DeploymentPlan plan = DeploymentPlan.of(List.of(), rules(A, B), true);

    assertThat(plan.target()).isNull();
    assertThat(plan.newVersion()).isEqualTo(rules(A, B));
    assertThat(plan.activate()).isTrue();
    assertThat(plan.unchanged()).isFalse();
    assertThat(plan.drop()).isEmpty();
  }

  @Test
  void theRulesThatServeNeedNothingAndCancelADeploymentInProgress() {
    RulesVersion active = new RulesVersion(3, rules(A, B), State.ACTIVE);
    RulesVersion filling = new RulesVersion(4, rules(A, B2), State.PROCESSING);

    DeploymentPlan plan = DeploymentPlan.of(List.of(active, filling), rules(A, B), true);

    assertThat(plan.target()).isEqualTo(active);
    assertThat(plan.unchanged()).isTrue();
    assertThat(plan.activate()).isFalse();
    assertThat(plan.drop()).containsExactly(4L);
    assertThat(plan.newVersion()).isNull();
  }

  /** The stored text may carry the engine's kept-ids line and lack the final newline. */
  @Test
  void theSameRulesAreRecognisedUnderTheEnginesLine() {
    RulesVersion active =
        new RulesVersion(5, StoredRules.encode(rules(A, B), Map.of("a", 2)), State.ACTIVE);
    String deployed = rules(A, B).stripTrailing();

    DeploymentPlan plan = DeploymentPlan.of(List.of(active), deployed, true);

    assertThat(plan.target()).isEqualTo(active);
    assertThat(plan.unchanged()).isTrue();
  }

  @Test
  void rulesBeingFilledAreResumedAndOtherDeploymentsDropped() {
    RulesVersion active = new RulesVersion(3, rules(A, B), State.ACTIVE);
    RulesVersion older = new RulesVersion(4, rules(A, C), State.PROCESSING);
    RulesVersion same = new RulesVersion(5, rules(A, B2), State.PROCESSING);

    DeploymentPlan plan = DeploymentPlan.of(List.of(active, older, same), rules(A, B2), true);

    assertThat(plan.target()).isEqualTo(same);
    assertThat(plan.unchanged()).isTrue();
    assertThat(plan.activate()).isFalse();
    assertThat(plan.drop()).containsExactly(4L);
  }

  /**
   * New rules keep the bucket ids of the definitions they leave unchanged: the active version's
   * own, or the older version it kept them from.
   */
  @Test
  void unchangedDefinitionsKeepTheirBucketIds() {
    RulesVersion active =
        new RulesVersion(7, StoredRules.encode(rules(A, B), Map.of("a", 2)), State.ACTIVE);

    DeploymentPlan changedB = DeploymentPlan.of(List.of(active), rules(A, B2), true);
    assertThat(changedB.newVersion()).isEqualTo(StoredRules.encode(rules(A, B2), Map.of("a", 2)));
    assertThat(StoredRules.keptVersions(changedB.newVersion())).containsExactly(Map.entry("a", 2));

    DeploymentPlan addedC = DeploymentPlan.of(List.of(active), rules(A, B, C), true);
    assertThat(StoredRules.keptVersions(addedC.newVersion()))
        .containsOnly(Map.entry("a", 2), Map.entry("b", 7));
    assertThat(addedC.activate()).isFalse();
    assertThat(addedC.unchanged()).isFalse();
  }

  @Test
  void withoutKeepingEveryDefinitionGetsNewBucketIds() {
    RulesVersion active = new RulesVersion(7, rules(A, B), State.ACTIVE);

    DeploymentPlan plan = DeploymentPlan.of(List.of(active), rules(A, B2), false);

    assertThat(plan.newVersion()).isEqualTo(rules(A, B2));
    assertThat(StoredRules.keptVersions(plan.newVersion())).isEmpty();
  }

  @Test
  void withNothingServingADifferentDeploymentIsReplacedAndTheNewOneServesAtOnce() {
    RulesVersion filling = new RulesVersion(1, rules(A, B), State.PROCESSING);
    RulesVersion retired = new RulesVersion(0, rules(A, C), State.RETIRED);

    DeploymentPlan plan = DeploymentPlan.of(List.of(retired, filling), rules(A, B2), true);

    assertThat(plan.drop()).containsExactly(1L);
    assertThat(plan.target()).isNull();
    assertThat(plan.activate()).isTrue();
    assertThat(plan.newVersion()).isEqualTo(rules(A, B2)); // nothing active: nothing to keep
  }
}
