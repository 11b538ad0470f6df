package dev.syncline.core.internal.stream;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import dev.syncline.api.WireFormat;

/**
 * The JSON error body of every non-streaming failure (PowerSync protocol §1.4): {@code
 * {"error":{"name":...,"code":"PSYNC_S2103","status":401,"description":"JWT has expired"}}}. Never
 * includes a stack trace.
 */
public final class ErrorEnvelope {
  private ErrorEnvelope() {}

  /**
   * The envelope for an exception: its code and description; anything unexpected becomes a generic
   * 500.
   */
  public static String of(Throwable error) {
    if (error instanceof SynclineException s) {
      return of(s.code(), description(s));
    }
    return of(ErrorCode.INTERNAL, "Internal error");
  }

  /**
   * Longest description sent, in characters; longer ones are cut (an error body stays small,
   * whatever caused it).
   */
  static final int MAX_DESCRIPTION = 2_000;

  /** The envelope for a code and description (cut to {@value #MAX_DESCRIPTION} characters). */
  public static String of(ErrorCode code, String description) {
    if (description.length() > MAX_DESCRIPTION) {
      int cut = MAX_DESCRIPTION - 1;
      if (Character.isHighSurrogate(description.charAt(cut - 1))) {
        cut--; // never half a character
      }
      description = description.substring(0, cut) + "\u2026";
    }
    StringBuilder sb = new StringBuilder(128).append("{\"error\":{\"name\":");
    WireFormat.appendQuoted(sb, name(code));
    sb.append(",\"code\":");
    WireFormat.appendQuoted(sb, code.code());
    sb.append(",\"status\":").append(code.httpStatus()).append(",\"description\":");
    WireFormat.appendQuoted(sb, description);
    return sb.append("}}").toString();
  }

  private static String description(SynclineException e) {
    String m = e.getMessage();
    String prefix = "[" + e.code().code() + "] ";
    return m != null && m.startsWith(prefix) ? m.substring(prefix.length()) : String.valueOf(m);
  }

  private static String name(ErrorCode code) {
    return switch (code.httpStatus()) {
      case 401 -> "AuthorizationError";
      case 400 -> "ValidationError";
      case 404 -> "NotFoundError";
      default -> "ServiceError";
    };
  }
}
