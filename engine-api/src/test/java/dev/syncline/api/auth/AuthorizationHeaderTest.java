package dev.syncline.api.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AuthorizationHeaderTest {
  @Test
  void bearerAndTokenSchemesInAnyCaseWithAnySpacing() {
    for (String header :
        List.of(
            "Bearer abc.def.ghi",
            "Token abc.def.ghi",
            "bearer abc.def.ghi",
            "TOKEN abc.def.ghi",
            "BeArEr \t abc.def.ghi ",
            "  Bearer abc.def.ghi")) {
      assertThat(AuthorizationHeader.token(header)).as(header).isEqualTo("abc.def.ghi");
    }
  }

  @Test
  void anythingElseIsAuthenticationRequired() {
    for (String bad :
        new String[] {
          null,
          "",
          " ",
          "Basic abc",
          "Token",
          "Bearer ",
          "Token a b",
          "Bearerabc",
          "abc.def.ghi",
          "Bearer\u00a0abc"
        }) {
      assertThatThrownBy(() -> AuthorizationHeader.token(bad))
          .as(String.valueOf(bad))
          .isInstanceOfSatisfying(
              SynclineException.class,
              e -> assertThat(e.code()).isEqualTo(ErrorCode.AUTH_REQUIRED));
    }
  }

  @Test
  void verifyAuthorizationParsesTheHeaderThenVerifies() {
    TokenVerifier verifier =
        token -> new AuthContext(Map.of("sub", "user-" + token), Instant.EPOCH);
    assertThat(verifier.verifyAuthorization("bearer t1").userId()).isEqualTo("user-t1");
    assertThatThrownBy(() -> verifier.verifyAuthorization("Basic t1"))
        .isInstanceOf(SynclineException.class);
  }

  @Test
  void theUserIdIsAlwaysANonEmptyStringWithoutNul() {
    assertThat(new AuthContext(Map.of("sub", "alice"), Instant.EPOCH).userId()).isEqualTo("alice");
    Map<String, Object> nullSub = new HashMap<>();
    nullSub.put("sub", null);
    for (Map<String, Object> claims :
        List.<Map<String, Object>>of(
            Map.of(),
            nullSub,
            Map.of("sub", ""),
            Map.of("sub", 42),
            Map.of("sub", List.of("a")),
            Map.of("sub", "a\0b"),
            Map.of("sub", "x".repeat(AuthContext.MAX_USER_ID_LENGTH + 1)))) {
      assertThatThrownBy(() -> new AuthContext(claims, Instant.EPOCH))
          .as(claims.toString().substring(0, Math.min(40, claims.toString().length())))
          .isInstanceOfSatisfying(
              SynclineException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.AUTH_INVALID));
    }
    assertThat(
            new AuthContext(
                    Map.of("sub", "x".repeat(AuthContext.MAX_USER_ID_LENGTH)), Instant.EPOCH)
                .userId())
        .hasSize(AuthContext.MAX_USER_ID_LENGTH);
  }
}
