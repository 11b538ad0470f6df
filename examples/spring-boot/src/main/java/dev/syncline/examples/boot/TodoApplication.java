package dev.syncline.examples.boot;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * The todo-list backend as a Spring Boot app embedding Syncline: Boot's DataSource feeds the
 * engine's storage and the upload handler, uploads run in Spring-managed transactions, and Spring
 * Security authenticates API calls with the same token verifier the sync endpoints use.
 */
@SpringBootApplication
public class TodoApplication {
  /** Entry point. */
  public static void main(String[] args) {
    SpringApplication.run(TodoApplication.class, args);
  }
}
