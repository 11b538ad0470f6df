package dev.syncline.examples.boot;

import dev.syncline.api.rules.SyncRulesSource;
import dev.syncline.core.auth.JwtTokenVerifier;
import dev.syncline.core.engine.Syncline;
import dev.syncline.core.storage.JdbcBucketStorage;
import dev.syncline.core.stream.SyncServlet;
import dev.syncline.core.upload.UploadHandler;
import dev.syncline.examples.todo.TodoAuthorizer;
import dev.syncline.postgres.PostgresSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import javax.sql.DataSource;
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
  JwtTokenVerifier tokenVerifier(
      @Value("${syncline.jwt.secret}") String secret,
      @Value("${syncline.jwt.audience}") String audience) {
    if (secret.getBytes(StandardCharsets.UTF_8).length < 32) {
      throw new IllegalStateException(
          "set syncline.jwt.secret (env JWT_SECRET) to at least 32 bytes");
    }
    return JwtTokenVerifier.builder()
        .audience(audience)
        .hmacSecret(secret.getBytes(StandardCharsets.UTF_8), null)
        .build();
  }

  /** Bucket storage in the app's database, next to its tables; Boot's pool serves it. */
  @Bean(destroyMethod = "close")
  JdbcBucketStorage bucketStorage(DataSource dataSource) {
    return JdbcBucketStorage.builder(dataSource).tablePrefix("syncline_").build();
  }

  /** Started with the context (after the schema was initialized), closed with it. */
  @Bean(initMethod = "start", destroyMethod = "close")
  Syncline syncEngine(
      JdbcBucketStorage storage,
      DataSourceProperties db,
      JwtTokenVerifier verifier,
      @Value("${syncline.rules}") Resource rules,
      @Value("${syncline.slot-prefix}") String slotPrefix)
      throws IOException {
    String yaml = rules.getContentAsString(StandardCharsets.UTF_8);
    return Syncline.builder()
        .storage(storage)
        .source(
            () ->
                PostgresSource.builder()
                    .jdbcUrl(db.determineUrl())
                    .user(db.determineUsername())
                    .password(db.determinePassword() == null ? "" : db.determinePassword())
                    .publication(slotPrefix, true)
                    .slotPrefix(slotPrefix)
                    .build())
        .rules(SyncRulesSource.ofYaml(yaml, String.valueOf(rules.getFilename())))
        .tokenVerifier(verifier)
        .build();
  }

  /** The sync endpoints, mapped next to the app's own controllers. */
  @Bean
  ServletRegistrationBean<SyncServlet> syncServlet(
      Syncline engine, @Value("${syncline.allowed-origin}") String allowedOrigin) {
    ServletRegistrationBean<SyncServlet> bean =
        new ServletRegistrationBean<>(
            engine.servlet(allowedOrigin), "/sync/*", "/write-checkpoint2.json");
    bean.setAsyncSupported(true);
    bean.setName("syncline");
    return bean;
  }

  /** Applies uploads inside the caller's (Spring's) transaction. */
  @Bean
  UploadHandler uploadHandler() {
    return UploadHandler.builder()
        .table("lists", "created_at", "name", "owner_id")
        .table(
            "todos",
            "created_at",
            "completed_at",
            "description",
            "completed",
            "created_by",
            "completed_by",
            "list_id")
        .authorizer(
            TodoAuthorizer
                ::mayWrite) // the todo app's rules: own lists, and lists shared with the user
        .build();
  }
}
