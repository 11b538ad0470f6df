package dev.syncline.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The copy's progress cursor: the last key copied, as text that survives any key content. */
class SnapshotCopierTest {
  @Test
  void aCursorGivesBackTheKeysItWasMadeOf() {
    for (List<String> keys :
        List.of(
            List.of("1"),
            List.of("a", "b"),
            List.of(""),
            List.of("", ""),
            List.of("3:abc", "12:"),
            List.of("ümlaut ✓", "with\nnewline"),
            List.of("a".repeat(1000)))) {
      String cursor = SnapshotCopier.encodeCursor(keys.toArray(String[]::new));
      assertThat(SnapshotCopier.decodeCursor(cursor)).isEqualTo(keys);
    }
  }

  @Test
  void randomKeysRoundTrip() {
    Random random = new Random(19);
    String alphabet = "0123456789:;,\"' \\abcé";
    for (int i = 0; i < 1_000; i++) {
      String[] keys = new String[1 + random.nextInt(4)];
      for (int k = 0; k < keys.length; k++) {
        StringBuilder sb = new StringBuilder();
        for (int n = random.nextInt(12); n > 0; n--) {
          sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        keys[k] = sb.toString();
      }
      assertThat(SnapshotCopier.decodeCursor(SnapshotCopier.encodeCursor(keys)))
          .containsExactly(keys);
    }
  }
}
