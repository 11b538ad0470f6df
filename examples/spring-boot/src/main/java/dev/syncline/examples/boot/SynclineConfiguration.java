package dev.syncline.examples.boot;

import dev.syncline.api.auth.AuthContext;
import dev.syncline.api.rules.SyncRulesSource;
import dev.syncline.api.upload.CrudEntry;
import dev.syncline.core.auth.JwtTokenVerifier;
import dev.syncline.core.engine.Syncline;
import dev.syncline.core.storage.JdbcBucketStorage;
import dev.syncline.core.stream.SyncServlet;
import dev.syncline.core.upload.UploadHandler;
import dev.syncline.postgres.PostgresSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.jdbc.DataSourceProperties;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.io.Resource;

/** The engine, its endpoints and the upload handler, as Spring beans. */
@Configuration(proxyBeanMethods = false)
class SynclineConfiguration {
  @Bean
  JwtTokenVerifier tokenVerifier(@Value("${syncline.jwt.secret}") String secret,
      @Value("${syncline.jwt.audience}") String audience) {
    if (secret.getBytes(StandardCharsets.UTF_8).length < 32) {
      throw new IllegalStateException("set syncline.jwt.secret (env JWT_SECRET) to at least 32 bytes");
    }
    return JwtTokenVerifier.builder().audience(audience).hmacSecret(secret.getBytes(StandardCharsets.UTF_8), null)
        .build();
  }

  /** Bucket storage in the app's database, next to its tables; Boot's pool serves it. */
  @Bean(destroyMethod = "close")
  JdbcBucketStorage bucketStorage(DataSource dataSource) {
    return JdbcBucketStorage.builder(dataSource).tablePrefix("syncline_").build();
  }

  /** Started with the context (after the schema was initialized), closed with it. */
  @Bean(initMethod = "start", destroyMethod = "close")
  Syncline syncEngine(JdbcBucketStorage storage, DataSourceProperties db, JwtTokenVerifier verifier,
      @Value("${syncline.rules}") Resource rules, @Value("${syncline.slot-prefix}") String slotPrefix)
      throws IOException {
    String yaml = rules.getContentAsString(StandardCharsets.UTF_8);
    return Syncline.builder()
        .storage(storage)
        .source(() -> PostgresSource.builder().jdbcUrl(db.determineUrl()).user(db.determineUsername())
            .password(db.determinePassword() == null ? "" : db.determinePassword())
            .publication(slotPrefix, true).slotPrefix(slotPrefix).build())
        .rules(SyncRulesSource.ofYaml(yaml, String.valueOf(rules.getFilename())))
        .tokenVerifier(verifier)
        .build();
  }

  /** The sync endpoints, mapped next to the app's own controllers. */
  @Bean
  ServletRegistrationBean<SyncServlet> syncServlet(Syncline engine,
      @Value("${syncline.allowed-origin}") String allowedOrigin) {
    ServletRegistrationBean<SyncServlet> bean = new ServletRegistrationBean<>(engine.servlet(allowedOrigin),
        "/sync/*", "/write-checkpoint2.json");
    bean.setAsyncSupported(true);
    bean.setName("syncline");
    return bean;
  }

  /** Applies uploads inside the caller's (Spring's) transaction. */
  @Bean
  UploadHandler uploadHandler() {
    return UploadHandler.builder()
        .table("lists", "created_at", "name", "owner_id")
        .table("todos", "created_at", "completed_at", "description", "completed", "created_by", "completed_by",
            "list_id")
        .authorizer(SynclineConfiguration::mayWrite)
        .build();
  }

  /** Users write their own lists, and todos of lists they own or that are shared with them. */
  static boolean mayWrite(AuthContext user, CrudEntry entry, @Nullable Map<String, @Nullable Object> current,
      Connection tx) throws SQLException {
    String me = user.userKey();
    if (entry.table().equals("lists")) {
      return current == null ? entry.op() != CrudEntry.Op.PUT || me.equals(entry.data().get("owner_id"))
          : me.equals(current.get("owner_id"));
    }
    Object before = current == null ? null : current.get("list_id");
    Object after = entry.data().get("list_id");
    return (before == null || canAccess(tx, before.toString(), me))
        && (after == null || canAccess(tx, after.toString(), me));
  }

  private static boolean canAccess(Connection tx, String listId, String user) throws SQLException {
    try (PreparedStatement s = tx.prepareStatement("SELECT 1 FROM lists l WHERE l.id::text = ? AND (l.owner_id = ? "
        + "OR EXISTS (SELECT 1 FROM list_shares s WHERE s.list_id = l.id AND s.user_id = ?))")) {
      s.setString(1, listId);
      s.setString(2, user);
      s.setString(3, user);
      try (ResultSet rs = s.executeQuery()) {
        return rs.next();
      }
    }
  }
}
