package dev.syncline.api.upload;

import dev.syncline.api.ErrorCode;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The outcome of applying an {@link UploadBatch}. A failure that may pass is not a result but an
 * exception with code {@code UPLOAD_RETRY}: the client retries the same upload.
 */
public sealed interface UploadResult {
  /**
   * The HTTP status an endpoint answers with: 200 when applied (or already applied), the
   * rejection's 4xx else.
   */
  int httpStatus();

  /**
   * The writes were committed.
   *
   * @param applied entries written
   * @param skipped entries the conflict policy chose to skip
   * @param writeCheckpoint the write checkpoint created after the commit, when the handler was
   *     given an engine
   */
  record Applied(int applied, int skipped, @Nullable Long writeCheckpoint) implements UploadResult {
    @Override
    public int httpStatus() {
      return 200;
    }
  }

  /** The same client transaction was applied before (a retry); nothing was written again. */
  record AlreadyApplied(long transactionId) implements UploadResult {
    @Override
    public int httpStatus() {
      return 200;
    }
  }

  /**
   * The batch was permanently rejected and nothing of it was written; the client should discard it.
   *
   * @param code the error code of the first problem ({@code UPLOAD_INVALID}, {@code
   *     UPLOAD_FORBIDDEN} or {@code UPLOAD_CONFLICT})
   * @param problems every entry that was rejected, in upload order
   */
  record Rejected(ErrorCode code, List<Problem> problems) implements UploadResult {
    /** Validates and copies. */
    public Rejected {
      Objects.requireNonNull(code, "code");
      problems = List.copyOf(problems);
      if (problems.isEmpty()) {
        throw new IllegalArgumentException("a rejection names at least one problem");
      }
    }

    @Override
    public int httpStatus() {
      return code.httpStatus();
    }
  }

  /**
   * Why one entry was rejected.
   *
   * @param index the entry's position in the batch
   * @param table the entry's table
   * @param id the entry's row id
   * @param code {@code UPLOAD_INVALID}, {@code UPLOAD_FORBIDDEN} or {@code UPLOAD_CONFLICT}
   * @param message what is wrong, for the client's developer
   */
  record Problem(int index, String table, String id, ErrorCode code, String message) {}
}
