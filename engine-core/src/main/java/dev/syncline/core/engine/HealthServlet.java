package dev.syncline.core.engine;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * An engine's {@link Syncline#healthJson() health and metrics} as a servlet: {@code GET} answers
 * the JSON with 200 when the engine is ready, 503 when not. Mount it where only operators and
 * monitoring reach it (an admin port, or behind the host's authentication): unlike {@code
 * /probes/readiness}, it shows error messages, versions and lag. The servlet API is a {@code
 * provided} dependency. <em>Incubating</em>.
 */
public final class HealthServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;
  private final transient Syncline engine;

  /** The health of {@code engine}; {@link Syncline#healthServlet()} makes one. */
  public HealthServlet(Syncline engine) {
    this.engine = Objects.requireNonNull(engine);
  }

  @Override
  protected void doGet(HttpServletRequest request, HttpServletResponse response)
      throws IOException {
    byte[] body = engine.healthJson().getBytes(StandardCharsets.UTF_8);
    response.setStatus(engine.health().ready() ? 200 : 503);
    response.setContentType("application/json");
    response.setHeader("Cache-Control", "no-store");
    response.setContentLength(body.length);
    response.getOutputStream().write(body);
  }
}
