package dev.syncline.api.auth;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import org.jspecify.annotations.Nullable;

/**
 * Reads the token of an HTTP {@code Authorization} header the same way on every endpoint: {@code
 * Bearer <token>} or {@code Token <token>} (the PowerSync SDKs send the latter), the scheme in any
 * letter case, separated from the token by spaces or tabs, surrounding whitespace ignored. The sync
 * endpoints use it; use it (or {@link TokenVerifier#verifyAuthorization}) in the app's own
 * endpoints so that a header one endpoint accepts is accepted by all. Stateless.
 */
public final class AuthorizationHeader {
  private AuthorizationHeader() {}

  /**
   * The token of an {@code Authorization} header value.
   *
   * @throws SynclineException {@code AUTH_REQUIRED} (HTTP 401) when the header is absent or not
   *     {@code Bearer <token>} / {@code Token <token>}
   */
  public static String token(@Nullable String header) {
    if (header != null) {
      String h = strip(header);
      int space = 0;
      while (space < h.length() && !blank(h.charAt(space))) {
        space++;
      }
      String scheme = h.substring(0, space);
      if (scheme.equalsIgnoreCase("Bearer") || scheme.equalsIgnoreCase("Token")) {
        String token = strip(h.substring(space));
        if (!token.isEmpty() && token.chars().noneMatch(c -> blank((char) c))) {
          return token;
        }
      }
    }
    throw new SynclineException(
        ErrorCode.AUTH_REQUIRED,
        "Authentication required: send the header Authorization: Bearer <token>");
  }

  private static String strip(String s) {
    int start = 0;
    int end = s.length();
    while (start < end && blank(s.charAt(start))) {
      start++;
    }
    while (end > start && blank(s.charAt(end - 1))) {
      end--;
    }
    return s.substring(start, end);
  }

  private static boolean blank(char c) {
    return c == ' ' || c == '\t';
  }
}
