package dev.syncline.postgres.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class AckTrackerTest {
  @Test
  void onlyWhatStorageMadeDurableIsConfirmedAndEachPositionOnce() {
    AckTracker acks = new AckTracker(100);
    assertThat(acks.toConfirm()).isZero(); // the resume position was confirmed before
    assertThat(acks.storageBusy()).isFalse();

    acks.submitted(200);
    assertThat(acks.storageBusy()).isTrue();
    assertThat(acks.toConfirm()).isZero();

    acks.durable(200);
    assertThat(acks.storageBusy()).isFalse();
    assertThat(acks.toConfirm()).isEqualTo(200);
    assertThat(acks.toConfirm()).isZero();
    assertThat(acks.confirmed()).isEqualTo(200);
  }

  @Test
  void durablePositionsNeverGoBack() {
    AckTracker acks = new AckTracker(0);
    acks.submitted(300);
    acks.durable(300);
    acks.durable(250); // a late report of an earlier batch
    assertThat(acks.toConfirm()).isEqualTo(300);
    assertThat(acks.storageBusy()).isFalse();
  }

  /** LSNs are unsigned: a position past 2^63 is greater, not negative. */
  @Test
  void positionsCompareUnsigned() {
    long high = 0x8000_0000_0000_0010L;
    AckTracker acks = new AckTracker(0x7FFF_FFFF_FFFF_FFF0L);
    acks.submitted(high);
    assertThat(acks.storageBusy()).isTrue();
    acks.durable(high);
    assertThat(acks.toConfirm()).isEqualTo(high);
    assertThat(AckTracker.max(high, 5)).isEqualTo(high);
  }

  @Test
  void anIdleConfirmationIsDueOncePerInterval() {
    AckTracker acks = new AckTracker(0);
    assertThat(acks.due(10_000, 10_000)).isTrue();
    assertThat(acks.due(19_999, 10_000)).isFalse();
    assertThat(acks.due(20_000, 10_000)).isTrue();
    assertThat(acks.due(20_000, 0)).isTrue();
    acks.restartInterval(25_000); // confirmed by a commit: the next idle one waits a whole interval
    assertThat(acks.due(34_999, 10_000)).isFalse();
    assertThat(acks.due(35_000, 10_000)).isTrue();

    acks.confirmedUnstored(500);
    assertThat(acks.confirmed()).isEqualTo(500);
    acks.confirmedUnstored(400);
    assertThat(acks.confirmed()).isEqualTo(500);
    acks.durable(450); // storage's report of something older than what was confirmed idle
    assertThat(acks.toConfirm()).isZero();
  }

  /** Storage's thread reports while the replication thread reads: no report is lost. */
  @Test
  void reportsFromAnotherThreadAreAllSeen() throws Exception {
    AckTracker acks = new AckTracker(0);
    ExecutorService storage = Executors.newFixedThreadPool(4);
    CountDownLatch go = new CountDownLatch(1);
    try {
      for (int t = 0; t < 4; t++) {
        int offset = t;
        storage.execute(
            () -> {
              try {
                go.await();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              for (long p = 1; p <= 10_000; p++) {
                acks.durable(p * 4 + offset);
              }
            });
      }
      acks.submitted(40_003);
      go.countDown();
      storage.shutdown();
      assertThat(storage.awaitTermination(1, TimeUnit.MINUTES)).isTrue();
    } finally {
      storage.shutdownNow();
    }
    assertThat(acks.storageBusy()).isFalse();
    assertThat(acks.toConfirm()).isEqualTo(40_003);
  }
}
