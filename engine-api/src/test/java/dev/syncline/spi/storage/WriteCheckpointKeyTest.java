package dev.syncline.spi.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import dev.syncline.api.auth.AuthContext;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WriteCheckpointKeyTest {
  @Test
  void userAndClientStayApart() {
    AuthContext ab = new AuthContext(Map.of("sub", "a/b"), Instant.EPOCH);
    AuthContext a = new AuthContext(Map.of("sub", "a"), Instant.EPOCH);
    assertThat(WriteCheckpointKey.of(ab, "c")).isNotEqualTo(WriteCheckpointKey.of(a, "b/c"));
    assertThat(WriteCheckpointKey.of(a, null)).isEqualTo(new WriteCheckpointKey("a", ""));
  }

  @Test
  void clientIdsAreBoundedAndPrintable() {
    assertThat(
            new WriteCheckpointKey("u", "c".repeat(WriteCheckpointKey.MAX_CLIENT_ID_LENGTH))
                .clientId())
        .hasSize(WriteCheckpointKey.MAX_CLIENT_ID_LENGTH);
    for (String bad :
        new String[] {"c".repeat(WriteCheckpointKey.MAX_CLIENT_ID_LENGTH + 1), "a\0b", "a\nb"}) {
      assertThatThrownBy(() -> new WriteCheckpointKey("u", bad))
          .isInstanceOfSatisfying(
              SynclineException.class,
              e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST));
    }
    assertThatThrownBy(() -> new WriteCheckpointKey("", "c"))
        .isInstanceOfSatisfying(
            SynclineException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT));
  }

  @Test
  void requestedIdsLeaveRoomToCountOn() {
    WriteCheckpointKey.checkRequestedId(1);
    WriteCheckpointKey.checkRequestedId(WriteCheckpointKey.MAX_ID);
    for (long bad : new long[] {0, -1, WriteCheckpointKey.MAX_ID + 1, Long.MAX_VALUE}) {
      assertThatThrownBy(() -> WriteCheckpointKey.checkRequestedId(bad))
          .as(Long.toString(bad))
          .isInstanceOfSatisfying(
              SynclineException.class,
              e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST));
    }
  }
}
