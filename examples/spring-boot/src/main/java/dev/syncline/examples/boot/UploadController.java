package dev.syncline.examples.boot;

import dev.syncline.api.SynclineException;
import dev.syncline.api.auth.AuthContext;
import dev.syncline.api.upload.UploadBatch;
import dev.syncline.api.upload.UploadResult;
import dev.syncline.core.engine.Syncline;
import dev.syncline.core.upload.UploadHandler;
import java.sql.Connection;
import javax.sql.DataSource;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.interceptor.TransactionAspectSupport;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code POST /api/upload}: the SDK connector's uploads, applied in a Spring transaction together
 * with whatever else the app does in it. A rejected batch rolls the whole transaction back.
 */
@RestController
class UploadController {
  private static final System.Logger LOG = System.getLogger(UploadController.class.getName());
  private final UploadHandler uploads;
  private final DataSource dataSource;
  private final Syncline engine;

  UploadController(UploadHandler uploads, DataSource dataSource, Syncline engine) {
    this.uploads = uploads;
    this.dataSource = dataSource;
    this.engine = engine;
  }

  @PostMapping(path = "/api/upload", produces = MediaType.APPLICATION_JSON_VALUE)
  @Transactional
  public ResponseEntity<String> upload(
      @RequestBody byte[] body, @AuthenticationPrincipal AuthContext user) {
    UploadBatch batch = UploadHandler.parse(body);
    Connection connection =
        DataSourceUtils.getConnection(dataSource); // the transaction's connection
    UploadResult result = uploads.apply(connection, user, batch);
    if (result instanceof UploadResult.Rejected) {
      TransactionAspectSupport.currentTransactionStatus().setRollbackOnly();
    } else if (result instanceof UploadResult.Applied) {
      // Once committed, the client's stream reports the write checkpoint when the change has been
      // replicated.
      TransactionSynchronizationManager.registerSynchronization(
          new TransactionSynchronization() {
            @Override
            public void afterCommit() {
              engine.createWriteCheckpoint(user, batch.clientId());
            }
          });
    }
    return ResponseEntity.status(result.httpStatus()).body(UploadHandler.toJson(result));
  }

  /**
   * Malformed uploads (400) and failures to retry (503), as the protocol's JSON envelope; never a
   * stack trace.
   */
  @ExceptionHandler(SynclineException.class)
  ResponseEntity<String> failed(SynclineException e) {
    // The handler logs rejections and retries it decides; what reaches here (a malformed body) is
    // logged here.
    LOG.log(
        e.code().httpStatus() >= 500 ? System.Logger.Level.WARNING : System.Logger.Level.INFO,
        () -> "upload refused: " + e.getMessage());
    return ResponseEntity.status(e.code().httpStatus())
        .contentType(MediaType.APPLICATION_JSON)
        .body(UploadHandler.toJson(e));
  }
}
