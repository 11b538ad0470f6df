package dev.syncline.api.upload;

import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What a client uploads at once: usually one local transaction ({@code getNextCrudTransaction()} in
 * the SDKs).
 *
 * @param clientId the client's id ({@code db.getClientId()}), stable for one client database
 * @param transactionId the client's local transaction id, increasing per client; with it, a retried
 *     upload is applied once. {@code null} when the client uploads without one (then retries may
 *     apply twice, which last-write-wins makes harmless for {@code PUT}/{@code DELETE})
 * @param entries the writes, in the order the client made them
 */
public record UploadBatch(String clientId, @Nullable Long transactionId, List<CrudEntry> entries) {
  /** Validates and copies. */
  public UploadBatch {
    Objects.requireNonNull(clientId, "clientId");
    entries = List.copyOf(entries);
  }
}
