package dev.syncline.api;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The unchecked exception every Syncline failure is reported with; {@link #code()} says what went
 * wrong.
 */
public class SynclineException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final ErrorCode code;

  /** Creates an exception with a code and a message that says what to change. */
  public SynclineException(ErrorCode code, String message) {
    this(code, message, null);
  }

  /** Creates an exception with a code, a message and the cause. */
  public SynclineException(ErrorCode code, String message, @Nullable Throwable cause) {
    super("[" + Objects.requireNonNull(code, "code").code() + "] " + message, cause);
    this.code = code;
  }

  /** The message given at construction; never {@code null}. */
  @Override
  public String getMessage() {
    return Objects.requireNonNull(super.getMessage());
  }

  /** The stable error code. */
  public ErrorCode code() {
    return code;
  }
}
