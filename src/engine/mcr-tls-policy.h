/* mcr-tls-policy.h: which server certificates we accept, for the control
 * channel and every tunnel alike
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define MCR_TYPE_CERT_INFO (mcr_cert_info_get_type ())

/* What the UI shows about a certificate it asks the user to trust. Hashes are
 * uppercase hex. */
typedef struct
{
  char      *subject;
  char      *issuer;
  GDateTime *not_before;
  GDateTime *not_after;
  char      *sha384;      /* SHA-384 of the DER certificate (MeshCentral's tlshash) */
  char      *key_sha384;  /* SHA-384 of the public key */
  char      *sha1;        /* SHA-1 of the DER certificate (Windows thumbprint) */
} McrCertInfo;

GType        mcr_cert_info_get_type  (void) G_GNUC_CONST;
McrCertInfo *mcr_cert_info_new       (GTlsCertificate   *certificate,
                                      GError           **error);
McrCertInfo *mcr_cert_info_copy      (const McrCertInfo *info);
void         mcr_cert_info_free      (McrCertInfo       *info);
gboolean     mcr_cert_info_matches   (const McrCertInfo *info,
                                      const char        *hash);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (McrCertInfo, mcr_cert_info_free)

#define MCR_TYPE_TLS_POLICY (mcr_tls_policy_get_type ())
G_DECLARE_FINAL_TYPE (McrTlsPolicy, mcr_tls_policy, MCR, TLS_POLICY, GObject)

McrTlsPolicy *mcr_tls_policy_new             (void);
void          mcr_tls_policy_set_ignore_cert (McrTlsPolicy        *self,
                                              gboolean             ignore);
gboolean      mcr_tls_policy_get_ignore_cert (McrTlsPolicy        *self);
/* Any of: SHA-384 of the certificate, SHA-384 of the key, SHA-1 thumbprint;
 * hex in any case, with or without ':' separators. */
gboolean      mcr_tls_policy_add_pinned_hash (McrTlsPolicy        *self,
                                              const char          *hash);
/* TRUE if one of @info's hashes was pinned. */
gboolean      mcr_tls_policy_is_pinned       (McrTlsPolicy        *self,
                                              const McrCertInfo   *info);
/* TRUE if @certificate is acceptable: no errors in @errors (it chains to the
 * system trust and names the host), or a pinned hash matches, or
 * ignore-cert is set. */
gboolean      mcr_tls_policy_accepts         (McrTlsPolicy        *self,
                                              GTlsCertificate     *certificate,
                                              GTlsCertificateFlags errors);

/* Decisions remembered, so that a tunnel to a server whose certificates are
 * byte-identical to ones already checked and accepted needs no second look.
 * @chain: the certificates as the server sent them (any encoding that puts
 * every byte of each DER certificate in). @valid_until: real time in
 * microseconds after which the decision is not reused. Forgotten when
 * ignore-cert changes; pins are only ever added, which cannot turn an
 * acceptance into a refusal. */
gboolean      mcr_tls_policy_accepted_before (McrTlsPolicy        *self,
                                              const char          *host,
                                              GBytes              *chain);
void          mcr_tls_policy_remember        (McrTlsPolicy        *self,
                                              const char          *host,
                                              GBytes              *chain,
                                              gint64               valid_until);

/* Whether to trust a certificate that does not validate against the system
 * trust (@errors is not 0). */
typedef gboolean (*McrTlsCertificateFunc) (GTlsCertificate     *certificate,
                                           GTlsCertificateFlags errors,
                                           gpointer             user_data);

typedef struct _McrTlsStream McrTlsStream;

/* The decision about the server certificate of @tls (its handshake done),
 * before anything is sent on it: TRUE if it validates against the system
 * trust for @host:@port, or @policy takes it, or (without a policy) @func
 * does. A chain @policy accepted for @host before is accepted again from its
 * bytes, without a second check; one it accepts now is remembered. @policy
 * and @func may be NULL. */
gboolean      mcr_tls_policy_check_peer      (McrTlsPolicy          *policy,
                                              McrTlsStream          *tls,
                                              const char            *host,
                                              int                    port,
                                              McrTlsCertificateFunc  func,
                                              gpointer               func_data,
                                              GError               **error);

G_END_DECLS
