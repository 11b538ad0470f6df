package dev.syncline.core.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.api.engine.DetectorThresholds;
import dev.syncline.api.engine.Finding;
import dev.syncline.api.engine.ReplicationState;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Each detector at, below and above its threshold, with the time given (no clock, no engine). */
class FindingsTest {
  static final DetectorThresholds T =
      new DetectorThresholds(
          Duration.ofSeconds(60),
          Duration.ofSeconds(120),
          1_000,
          Duration.ofSeconds(300),
          10_000,
          Duration.ofMillis(1_500));
  static final long S = 1_000_000_000L;
  static final long NOW = 1_000_000 * S;

  static Findings.Replication healthy(long version) {
    return new Findings.Replication(version, ReplicationState.STREAMING, 0, 0, 0, 0, -1);
  }

  static List<Finding.Detector> detectors(List<Finding> found) {
    return found.stream().map(Finding::detector).toList();
  }

  @Test
  void nothingToFindInAHealthyEngine() {
    assertThat(Findings.of(T, 0, List.of(healthy(1), healthy(2)), NOW)).isEmpty();
    assertThat(Findings.of(T, 0, List.of(), NOW)).isEmpty();
  }

  @Test
  void stuckClientsAreCountedAndTheWaitNamed() {
    List<Finding> found = Findings.of(T, 3, List.of(), NOW);
    assertThat(detectors(found)).containsExactly(Finding.Detector.STUCK_CLIENTS);
    assertThat(found.get(0).message()).startsWith("3 connected client(s)").contains("over 60 s");
  }

  @Test
  void replicationStalledOnlyPastItsThreshold() {
    Findings.Replication atThreshold =
        new Findings.Replication(1, ReplicationState.STREAMING, 120 * S, 0, 0, 0, -1);
    Findings.Replication past =
        new Findings.Replication(1, ReplicationState.SNAPSHOT, 120 * S + 1, 0, 0, 0, -1);
    assertThat(Findings.of(T, 0, List.of(atThreshold), NOW)).isEmpty();
    List<Finding> found = Findings.of(T, 0, List.of(past), NOW);
    assertThat(detectors(found)).containsExactly(Finding.Detector.REPLICATION_STALLED);
    assertThat(found.get(0).message()).contains("rules version 1 (SNAPSHOT)").contains("120 s");
  }

  /** Only the instance replicating a version knows its replication: other states tell nothing. */
  @Test
  void versionsNotReplicatedHereAreNotJudged() {
    for (ReplicationState state :
        List.of(
            ReplicationState.STANDBY,
            ReplicationState.RETRYING,
            ReplicationState.STARTING,
            ReplicationState.STOPPED)) {
      Findings.Replication r =
          new Findings.Replication(1, state, 999 * S, 999 * S, NOW - 999 * S, 99_999, 99_999);
      assertThat(Findings.of(T, 0, List.of(r), NOW)).as(state.name()).isEmpty();
    }
  }

  @Test
  void aSlowStorageWriteIsNamedInMilliseconds() {
    Findings.Replication slow =
        new Findings.Replication(2, ReplicationState.STREAMING, 0, 1_600_000_000L, 0, 0, -1);
    List<Finding> found = Findings.of(T, 0, List.of(slow), NOW);
    assertThat(detectors(found)).containsExactly(Finding.Detector.STORAGE_SLOW);
    assertThat(found.get(0).message()).contains("took 1600 ms");
  }

  @Test
  void aSlotBehindCountsFromWhenItFellBehind() {
    Findings.Replication recent =
        new Findings.Replication(1, ReplicationState.STREAMING, 0, 0, NOW - 300 * S, 5_000, -1);
    Findings.Replication longBehind =
        new Findings.Replication(1, ReplicationState.STREAMING, 0, 0, NOW - 300 * S - 1, 5_000, -1);
    Findings.Replication notBehind =
        new Findings.Replication(1, ReplicationState.STREAMING, 0, 0, 0, 5_000, -1);
    assertThat(Findings.of(T, 0, List.of(recent), NOW)).isEmpty();
    assertThat(Findings.of(T, 0, List.of(notBehind), NOW)).isEmpty();
    List<Finding> found = Findings.of(T, 0, List.of(longBehind), NOW);
    assertThat(detectors(found)).containsExactly(Finding.Detector.SLOT_STALLED);
    assertThat(found.get(0).message())
        .contains("at or above 1000 bytes for over 300 s (now 5000 bytes)");
  }

  @Test
  void retainedWalAboveTheThreshold() {
    Findings.Replication at =
        new Findings.Replication(1, ReplicationState.STREAMING, 0, 0, 0, 0, 10_000);
    Findings.Replication above =
        new Findings.Replication(1, ReplicationState.STREAMING, 0, 0, 0, 0, 10_001);
    assertThat(Findings.of(T, 0, List.of(at), NOW)).isEmpty();
    assertThat(detectors(Findings.of(T, 0, List.of(above), NOW)))
        .containsExactly(Finding.Detector.WAL_RETAINED);
  }

  /** One finding per detector, the first version's; detectors in their declared order. */
  @Test
  void theFirstVersionSpeaksForEachDetector() {
    Findings.Replication one =
        new Findings.Replication(1, ReplicationState.STREAMING, 0, 0, 0, 0, 20_000);
    Findings.Replication two =
        new Findings.Replication(2, ReplicationState.STREAMING, 999 * S, 0, 0, 0, 30_000);
    List<Finding> found = Findings.of(T, 1, List.of(one, two), NOW);
    assertThat(detectors(found))
        .containsExactly(
            Finding.Detector.STUCK_CLIENTS,
            Finding.Detector.REPLICATION_STALLED,
            Finding.Detector.WAL_RETAINED);
    assertThat(found)
        .filteredOn(f -> f.detector() == Finding.Detector.WAL_RETAINED)
        .singleElement()
        .satisfies(f -> assertThat(f.message()).contains("20000 bytes of WAL for rules version 1"));
  }

  @Test
  void durationsReadAsOperatorsWriteThem() {
    assertThat(Findings.seconds(Duration.ofSeconds(30))).isEqualTo("30 s");
    assertThat(Findings.seconds(Duration.ofMillis(250))).isEqualTo("250 ms");
    assertThat(Findings.seconds(Duration.ofMillis(1500))).isEqualTo("1500 ms");
  }
}
