package dev.syncline.examples.boot;

import dev.syncline.api.ErrorCode;
import dev.syncline.api.SynclineException;
import dev.syncline.api.auth.AuthContext;
import dev.syncline.core.auth.JwtTokenVerifier;
import dev.syncline.core.upload.UploadHandler;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.List;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.authentication.UsernamePasswordAuthenticationFilter;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Spring Security for the app's API: a bearer token is verified with the engine's {@link
 * JwtTokenVerifier} (the same keys the sync stream checks) and becomes the request's principal, an
 * {@link AuthContext}. The sync endpoints verify tokens themselves.
 */
@Configuration(proxyBeanMethods = false)
class SecurityConfiguration {
  @Bean
  SecurityFilterChain api(HttpSecurity http, JwtTokenVerifier verifier) throws Exception {
    return http.csrf(c -> c.disable()) // token-authenticated API, no cookies
        .sessionManagement(s -> s.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
        .authorizeHttpRequests(
            a -> a.requestMatchers("/api/**").authenticated().anyRequest().permitAll())
        .exceptionHandling(
            e ->
                e.authenticationEntryPoint(
                    (request, response, ex) -> {
                      response.setStatus(401);
                      response.setContentType("application/json");
                      response
                          .getWriter()
                          .write(
                              "{\"error\":{\"code\":\"PSYNC_S2106\",\"status\":401,"
                                  + "\"description\":\"Authorization: Bearer <token> is required\"}}");
                    }))
        .addFilterBefore(
            new BearerTokenFilter(verifier), UsernamePasswordAuthenticationFilter.class)
        .build();
  }

  /**
   * Authenticates {@code Authorization: Bearer <jwt>} (or {@code Token <jwt>}); an invalid token
   * answers 401 with the error's code, a declared body larger than an upload may be answers 400,
   * both before the body is read.
   */
  static final class BearerTokenFilter extends OncePerRequestFilter {
    private static final System.Logger LOG = System.getLogger(BearerTokenFilter.class.getName());
    private final JwtTokenVerifier verifier;

    BearerTokenFilter(JwtTokenVerifier verifier) {
      this.verifier = verifier;
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
      return !request.getRequestURI().startsWith(request.getContextPath() + "/api/");
    }

    @Override
    protected void doFilterInternal(
        HttpServletRequest request, HttpServletResponse response, FilterChain chain)
        throws ServletException, IOException {
      String header = request.getHeader("Authorization");
      if (header != null) {
        try {
          // Parsed exactly as the sync endpoints parse it: Bearer or Token, in any case.
          AuthContext user = verifier.verifyAuthorization(header);
          SecurityContextHolder.getContext()
              .setAuthentication(
                  UsernamePasswordAuthenticationToken.authenticated(user, null, List.of()));
        } catch (SynclineException e) {
          LOG.log(
              System.Logger.Level.INFO,
              () ->
                  request.getMethod()
                      + " "
                      + request.getRequestURI()
                      + " from "
                      + request.getRemoteAddr()
                      + " -> "
                      + e.code().httpStatus()
                      + " "
                      + e.getMessage());
          response.setStatus(e.code().httpStatus());
          response.setContentType("application/json");
          response
              .getWriter()
              .write(
                  "{\"error\":{\"code\":\""
                      + e.code().code()
                      + "\",\"status\":"
                      + e.code().httpStatus()
                      + ",\"description\":\"invalid token\"}}");
          return;
        }
      }
      if (request.getContentLengthLong() > UploadHandler.MAX_BODY_BYTES) {
        // Refused before Spring reads a byte of it.
        response.setStatus(400);
        response.setHeader("Connection", "close");
        response.setContentType("application/json");
        response
            .getWriter()
            .write(
                UploadHandler.toJson(
                    new SynclineException(
                        ErrorCode.INVALID_REQUEST,
                        "request body is larger than " + UploadHandler.MAX_BODY_BYTES + " bytes")));
        return;
      }
      chain.doFilter(request, response);
    }
  }
}
