/** Token verification: {@link dev.syncline.core.auth.JwtTokenVerifier}. */
@NullMarked
package dev.syncline.core.auth;

import org.jspecify.annotations.NullMarked;
