package dev.syncline.examples.boot;

import dev.syncline.api.SynclineException;
import dev.syncline.api.auth.AuthContext;
import dev.syncline.core.auth.JwtTokenVerifier;
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
 * Spring Security for the app's API: a bearer token is verified with the engine's {@link JwtTokenVerifier} (the
 * same keys the sync stream checks) and becomes the request's principal, an {@link AuthContext}. The sync
 * endpoints verify tokens themselves.
 */
@Configuration(proxyBeanMethods = false)
class SecurityConfiguration {
  @Bean
  SecurityFilterChain api(HttpSecurity http, JwtTokenVerifier verifier) throws Exception {
    return http
        .csrf(c -> c.disable()) // token-authenticated API, no cookies
        .sessionManagement(s -> s.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
        .authorizeHttpRequests(a -> a
            .requestMatchers("/api/**").authenticated()
            .anyRequest().permitAll())
        .exceptionHandling(e -> e.authenticationEntryPoint((request, response, ex) -> {
          response.setStatus(401);
          response.setContentType("application/json");
          response.getWriter().write("{\"error\":{\"code\":\"PSYNC_S2106\",\"status\":401,"
              + "\"description\":\"Authorization: Bearer <token> is required\"}}");
        }))
        .addFilterBefore(new BearerTokenFilter(verifier), UsernamePasswordAuthenticationFilter.class)
        .build();
  }

  /** Authenticates {@code Authorization: Bearer <jwt>}; an invalid token answers 401 with the error's code. */
  static final class BearerTokenFilter extends OncePerRequestFilter {
    private final JwtTokenVerifier verifier;

    BearerTokenFilter(JwtTokenVerifier verifier) {
      this.verifier = verifier;
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
      return !request.getRequestURI().startsWith(request.getContextPath() + "/api/");
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
        throws ServletException, IOException {
      String header = request.getHeader("Authorization");
      if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
        try {
          AuthContext user = verifier.verify(header.substring(7).trim());
          SecurityContextHolder.getContext().setAuthentication(
              UsernamePasswordAuthenticationToken.authenticated(user, null, List.of()));
        } catch (SynclineException e) {
          response.setStatus(e.code().httpStatus());
          response.setContentType("application/json");
          response.getWriter().write("{\"error\":{\"code\":\"" + e.code().code() + "\",\"status\":"
              + e.code().httpStatus() + ",\"description\":\"invalid token\"}}");
          return;
        }
      }
      chain.doFilter(request, response);
    }
  }
}
