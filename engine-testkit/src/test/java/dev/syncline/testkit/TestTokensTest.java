package dev.syncline.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import dev.syncline.core.auth.JwtTokenVerifier;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TestTokensTest {
  static final byte[] SECRET = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8);

  @Test
  void mintedTokensPassTheVerifierWithTheirClaims() {
    var verifier = JwtTokenVerifier.builder().audience("app").hmacSecret(SECRET, null).build();
    var auth =
        verifier.verify(
            TestTokens.hs256(SECRET, "app")
                .forUser("alice", Duration.ofMinutes(5), Map.of("role", "admin")));
    assertThat(auth.claims()).containsEntry("sub", "alice").containsEntry("role", "admin");
    assertThatThrownBy(() -> verifier.verify(TestTokens.hs256(SECRET, "other").forUser("alice")))
        .isInstanceOfSatisfying(
            SynclineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.AUTH_AUDIENCE));
    assertThatThrownBy(() -> TestTokens.hs256(new byte[8], "app"))
        .isInstanceOf(SynclineException.class);
  }
}
