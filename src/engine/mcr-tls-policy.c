/* mcr-tls-policy.c: which server certificates we accept, for the control
 * channel and every tunnel alike
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define G_LOG_DOMAIN "mcr-tls-policy"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <string.h>

#include "mcr-tls-policy.h"
#include "mcr-tls-stream.h"

struct _McrTlsPolicy
{
  GObject    parent_instance;

  gboolean   ignore_cert;
  GPtrArray *pinned;        /* normalized uppercase hex, no separators */
  GQueue     accepted;      /* Accepted, newest first */
};

/* A certificate chain accepted for a host. */
typedef struct
{
  char   *host;
  GBytes *chain;
  gint64  valid_until;
} Accepted;

/* Tunnels go to one server; a few entries cover a server that changes
 * certificates, or a router logged in to a few. */
#define MAX_ACCEPTED 8

enum
{
  PROP_0,
  PROP_IGNORE_CERT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (McrTlsPolicy, mcr_tls_policy, G_TYPE_OBJECT)

G_DEFINE_BOXED_TYPE (McrCertInfo, mcr_cert_info, mcr_cert_info_copy, mcr_cert_info_free)

/* ---- hashes ---- */

static char *
hex_upper (const guint8 *data,
           gsize         len)
{
  static const char digits[] = "0123456789ABCDEF";
  char *out = g_malloc (len * 2 + 1);

  for (gsize i = 0; i < len; i++)
    {
      out[i * 2] = digits[data[i] >> 4];
      out[i * 2 + 1] = digits[data[i] & 0x0f];
    }
  out[len * 2] = '\0';
  return out;
}

static char *
hash_hex (gnutls_digest_algorithm_t algorithm,
          const void               *data,
          gsize                     len)
{
  guint8 digest[64];
  gsize digest_len = gnutls_hash_get_len (algorithm);

  g_assert (digest_len <= sizeof digest);
  if (gnutls_hash_fast (algorithm, data, len, digest) < 0)
    return NULL;
  return hex_upper (digest, digest_len);
}

/* Reads one DER tag-length header at @p (bounded by @end); returns the start
 * of the contents and sets *@content_len, or NULL if it is malformed. */
static const guint8 *
der_read_header (const guint8 *p,
                 const guint8 *end,
                 guint8       *tag,
                 gsize        *content_len)
{
  gsize len;

  if (end - p < 2)
    return NULL;
  *tag = *p++;
  len = *p++;
  if (len & 0x80)
    {
      guint n = len & 0x7f;

      if (n == 0 || n > sizeof (gsize) || (gsize) (end - p) < n)
        return NULL;
      len = 0;
      while (n--)
        len = (len << 8) | *p++;
    }
  if (len > (gsize) (end - p))
    return NULL;
  *content_len = len;
  return p;
}

/* The subject public key as MeshCentral hashes it: an RSA key as PKCS#1
 * RSAPublicKey, which is the content of the SPKI's BIT STRING; other keys as
 * the whole SPKI. */
static GBytes *
rsa_key_from_spki (const guint8 *spki,
                   gsize         len)
{
  const guint8 *end = spki + len, *p;
  guint8 tag;
  gsize clen;

  p = der_read_header (spki, end, &tag, &clen);      /* SubjectPublicKeyInfo */
  if (p == NULL || tag != 0x30)
    return NULL;
  end = p + clen;
  p = der_read_header (p, end, &tag, &clen);         /* AlgorithmIdentifier */
  if (p == NULL || tag != 0x30)
    return NULL;
  p += clen;
  p = der_read_header (p, end, &tag, &clen);         /* BIT STRING */
  if (p == NULL || tag != 0x03 || clen < 1 || p[0] != 0)
    return NULL;
  return g_bytes_new (p + 1, clen - 1);
}

static char *
dn_string (gnutls_x509_crt_t crt,
           gboolean          issuer)
{
  gnutls_datum_t dn = { NULL, 0 };
  char *out;
  int r;

  r = issuer ? gnutls_x509_crt_get_issuer_dn3 (crt, &dn, 0)
             : gnutls_x509_crt_get_dn3 (crt, &dn, 0);
  if (r < 0)
    return g_strdup ("");
  out = g_strndup ((const char *) dn.data, dn.size);
  gnutls_free (dn.data);
  return out;
}

static GDateTime *
date_from_time (time_t t)
{
  if (t == (time_t) -1)
    return NULL;
  return g_date_time_new_from_unix_utc ((gint64) t);
}

static void
set_error_from_gnutls (GError    **error,
                       const char *what,
                       int         code)
{
  g_set_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE,
               _("The server certificate cannot be read (%s: %s)"), what,
               gnutls_strerror (code));
}

static gboolean
fill_key_hash (McrCertInfo      *info,
               gnutls_x509_crt_t crt,
               GError          **error)
{
  gnutls_pubkey_t key = NULL;
  gnutls_datum_t spki = { NULL, 0 };
  g_autoptr(GBytes) rsa = NULL;
  int r;

  if ((r = gnutls_pubkey_init (&key)) < 0)
    {
      set_error_from_gnutls (error, "pubkey", r);
      return FALSE;
    }
  if ((r = gnutls_pubkey_import_x509 (key, crt, 0)) < 0 ||
      (r = gnutls_pubkey_export2 (key, GNUTLS_X509_FMT_DER, &spki)) < 0)
    {
      gnutls_pubkey_deinit (key);
      set_error_from_gnutls (error, "public key", r);
      return FALSE;
    }

  if (gnutls_pubkey_get_pk_algorithm (key, NULL) == GNUTLS_PK_RSA)
    rsa = rsa_key_from_spki (spki.data, spki.size);
  if (rsa != NULL)
    info->key_sha384 = hash_hex (GNUTLS_DIG_SHA384, g_bytes_get_data (rsa, NULL),
                                 g_bytes_get_size (rsa));
  else
    info->key_sha384 = hash_hex (GNUTLS_DIG_SHA384, spki.data, spki.size);

  gnutls_free (spki.data);
  gnutls_pubkey_deinit (key);
  return info->key_sha384 != NULL;
}

/**
 * mcr_cert_info_new:
 * @certificate: the server's certificate
 *
 * Returns: (transfer full): the details of @certificate, or %NULL with
 * @error if it cannot be parsed
 */
McrCertInfo *
mcr_cert_info_new (GTlsCertificate *certificate,
                   GError         **error)
{
  g_autoptr(GByteArray) der = NULL;
  g_autoptr(McrCertInfo) info = NULL;
  gnutls_x509_crt_t crt = NULL;
  gnutls_datum_t datum;
  int r;

  g_return_val_if_fail (G_IS_TLS_CERTIFICATE (certificate), NULL);

  g_object_get (certificate, "certificate", &der, NULL);
  if (der == NULL || der->len == 0)
    {
      g_set_error_literal (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE,
                           _("The server sent an empty certificate"));
      return NULL;
    }

  if ((r = gnutls_x509_crt_init (&crt)) < 0)
    {
      set_error_from_gnutls (error, "init", r);
      return NULL;
    }
  datum.data = der->data;
  datum.size = der->len;
  if ((r = gnutls_x509_crt_import (crt, &datum, GNUTLS_X509_FMT_DER)) < 0)
    {
      gnutls_x509_crt_deinit (crt);
      set_error_from_gnutls (error, "DER", r);
      return NULL;
    }

  info = g_new0 (McrCertInfo, 1);
  info->subject = dn_string (crt, FALSE);
  info->issuer = dn_string (crt, TRUE);
  info->not_before = date_from_time (gnutls_x509_crt_get_activation_time (crt));
  info->not_after = date_from_time (gnutls_x509_crt_get_expiration_time (crt));
  info->sha384 = hash_hex (GNUTLS_DIG_SHA384, der->data, der->len);
  info->sha1 = hash_hex (GNUTLS_DIG_SHA1, der->data, der->len);
  if (!fill_key_hash (info, crt, error))
    {
      gnutls_x509_crt_deinit (crt);
      return NULL;
    }
  gnutls_x509_crt_deinit (crt);

  if (info->sha384 == NULL || info->sha1 == NULL)
    {
      g_set_error_literal (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE,
                           _("The server certificate cannot be hashed"));
      return NULL;
    }
  return g_steal_pointer (&info);
}

McrCertInfo *
mcr_cert_info_copy (const McrCertInfo *info)
{
  McrCertInfo *copy;

  if (info == NULL)
    return NULL;
  copy = g_new0 (McrCertInfo, 1);
  copy->subject = g_strdup (info->subject);
  copy->issuer = g_strdup (info->issuer);
  copy->not_before = info->not_before ? g_date_time_ref (info->not_before) : NULL;
  copy->not_after = info->not_after ? g_date_time_ref (info->not_after) : NULL;
  copy->sha384 = g_strdup (info->sha384);
  copy->key_sha384 = g_strdup (info->key_sha384);
  copy->sha1 = g_strdup (info->sha1);
  return copy;
}

void
mcr_cert_info_free (McrCertInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->subject);
  g_free (info->issuer);
  g_clear_pointer (&info->not_before, g_date_time_unref);
  g_clear_pointer (&info->not_after, g_date_time_unref);
  g_free (info->sha384);
  g_free (info->key_sha384);
  g_free (info->sha1);
  g_free (info);
}

/* Uppercase hex without separators (':', ' ', '-'), or NULL unless it is a
 * SHA-1 (40 digits) or SHA-384 (96 digits). */
static char *
normalize_hash (const char *hash)
{
  GString *s;

  if (hash == NULL)
    return NULL;
  s = g_string_new (NULL);
  for (const char *p = hash; *p; p++)
    {
      if (*p == ':' || *p == ' ' || *p == '-')
        continue;
      if (!g_ascii_isxdigit (*p))
        {
          g_string_free (s, TRUE);
          return NULL;
        }
      g_string_append_c (s, g_ascii_toupper (*p));
    }
  if (s->len != 40 && s->len != 96)
    {
      g_string_free (s, TRUE);
      return NULL;
    }
  return g_string_free (s, FALSE);
}

/* Compared as normalized strings: the values are public, so timing does not
 * matter here. */
static gboolean
info_matches_normalized (const McrCertInfo *info,
                         const char        *norm)
{
  return g_strcmp0 (info->sha384, norm) == 0 ||
         g_strcmp0 (info->key_sha384, norm) == 0 ||
         g_strcmp0 (info->sha1, norm) == 0;
}

gboolean
mcr_cert_info_matches (const McrCertInfo *info,
                       const char        *hash)
{
  g_autofree char *norm = normalize_hash (hash);

  g_return_val_if_fail (info != NULL, FALSE);
  return norm != NULL && info_matches_normalized (info, norm);
}

/* ---- the policy ---- */

static void
accepted_free (Accepted *a)
{
  g_free (a->host);
  g_bytes_unref (a->chain);
  g_free (a);
}

static void
forget_accepted (McrTlsPolicy *self)
{
  g_queue_clear_full (&self->accepted, (GDestroyNotify) accepted_free);
}

static void
mcr_tls_policy_finalize (GObject *object)
{
  McrTlsPolicy *self = MCR_TLS_POLICY (object);

  forget_accepted (self);
  g_clear_pointer (&self->pinned, g_ptr_array_unref);
  G_OBJECT_CLASS (mcr_tls_policy_parent_class)->finalize (object);
}

static void
mcr_tls_policy_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  McrTlsPolicy *self = MCR_TLS_POLICY (object);

  switch (prop_id)
    {
    case PROP_IGNORE_CERT:
      g_value_set_boolean (value, self->ignore_cert);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mcr_tls_policy_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  McrTlsPolicy *self = MCR_TLS_POLICY (object);

  switch (prop_id)
    {
    case PROP_IGNORE_CERT:
      mcr_tls_policy_set_ignore_cert (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mcr_tls_policy_class_init (McrTlsPolicyClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = mcr_tls_policy_finalize;
  object_class->get_property = mcr_tls_policy_get_property;
  object_class->set_property = mcr_tls_policy_set_property;

  properties[PROP_IGNORE_CERT] =
    g_param_spec_boolean ("ignore-cert", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mcr_tls_policy_init (McrTlsPolicy *self)
{
  self->pinned = g_ptr_array_new_with_free_func (g_free);
  g_queue_init (&self->accepted);
}

McrTlsPolicy *
mcr_tls_policy_new (void)
{
  return g_object_new (MCR_TYPE_TLS_POLICY, NULL);
}

void
mcr_tls_policy_set_ignore_cert (McrTlsPolicy *self,
                                gboolean      ignore)
{
  g_return_if_fail (MCR_IS_TLS_POLICY (self));

  ignore = !!ignore;
  if (self->ignore_cert == ignore)
    return;
  self->ignore_cert = ignore;
  /* What ignore-cert let through may not pass any more. */
  forget_accepted (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IGNORE_CERT]);
}

gboolean
mcr_tls_policy_get_ignore_cert (McrTlsPolicy *self)
{
  g_return_val_if_fail (MCR_IS_TLS_POLICY (self), FALSE);
  return self->ignore_cert;
}

gboolean
mcr_tls_policy_add_pinned_hash (McrTlsPolicy *self,
                                const char   *hash)
{
  g_autofree char *norm = NULL;

  g_return_val_if_fail (MCR_IS_TLS_POLICY (self), FALSE);

  norm = normalize_hash (hash);
  if (norm == NULL)
    return FALSE;
  for (guint i = 0; i < self->pinned->len; i++)
    if (g_str_equal (g_ptr_array_index (self->pinned, i), norm))
      return TRUE;
  g_ptr_array_add (self->pinned, g_steal_pointer (&norm));
  return TRUE;
}

/**
 * mcr_tls_policy_is_pinned:
 * @info: the details of a certificate
 *
 * Returns: %TRUE if one of @info's hashes is pinned
 */
gboolean
mcr_tls_policy_is_pinned (McrTlsPolicy      *self,
                          const McrCertInfo *info)
{
  g_return_val_if_fail (MCR_IS_TLS_POLICY (self), FALSE);
  g_return_val_if_fail (info != NULL, FALSE);

  for (guint i = 0; i < self->pinned->len; i++)
    if (info_matches_normalized (info, g_ptr_array_index (self->pinned, i)))
      return TRUE;
  return FALSE;
}

gboolean
mcr_tls_policy_accepts (McrTlsPolicy        *self,
                        GTlsCertificate     *certificate,
                        GTlsCertificateFlags errors)
{
  g_autoptr(McrCertInfo) info = NULL;
  g_autoptr(GError) error = NULL;

  g_return_val_if_fail (MCR_IS_TLS_POLICY (self), FALSE);

  if (errors == 0 || self->ignore_cert)
    return TRUE;
  if (certificate == NULL || self->pinned->len == 0)
    return FALSE;

  info = mcr_cert_info_new (certificate, &error);
  if (info == NULL)
    {
      g_debug ("certificate not readable: %s", error->message);
      return FALSE;
    }
  return mcr_tls_policy_is_pinned (self, info);
}

gboolean
mcr_tls_policy_accepted_before (McrTlsPolicy *self,
                                const char   *host,
                                GBytes       *chain)
{
  gint64 now;

  g_return_val_if_fail (MCR_IS_TLS_POLICY (self), FALSE);
  g_return_val_if_fail (host != NULL && chain != NULL, FALSE);

  now = g_get_real_time ();
  for (GList *l = self->accepted.head; l != NULL; l = l->next)
    {
      Accepted *a = l->data;

      if (now < a->valid_until && g_str_equal (a->host, host) && g_bytes_equal (a->chain, chain))
        return TRUE;
    }
  return FALSE;
}

void
mcr_tls_policy_remember (McrTlsPolicy *self,
                         const char   *host,
                         GBytes       *chain,
                         gint64        valid_until)
{
  Accepted *a;

  g_return_if_fail (MCR_IS_TLS_POLICY (self));
  g_return_if_fail (host != NULL && chain != NULL);

  for (GList *l = self->accepted.head; l != NULL; l = l->next)
    {
      a = l->data;
      if (g_str_equal (a->host, host) && g_bytes_equal (a->chain, chain))
        {
          a->valid_until = valid_until;
          g_queue_unlink (&self->accepted, l);
          g_queue_push_head_link (&self->accepted, l);
          return;
        }
    }
  a = g_new0 (Accepted, 1);
  a->host = g_strdup (host);
  a->chain = g_bytes_ref (chain);
  a->valid_until = valid_until;
  g_queue_push_head (&self->accepted, a);
  while (g_queue_get_length (&self->accepted) > MAX_ACCEPTED)
    accepted_free (g_queue_pop_tail (&self->accepted));
}

/* ---- the check of a tunnel's server certificate ---- */

/* A certificate check is reused for at most this long (microseconds). */
#define CERT_MEMORY_US (10 * G_TIME_SPAN_MINUTE)

/* The certificates as the server sent them, for comparing with what was
 * accepted before: each DER certificate after its length. */
static GBytes *
chain_bytes (const gnutls_datum_t *der,
             guint                 n)
{
  GByteArray *bytes = g_byte_array_new ();

  for (guint i = 0; i < n; i++)
    {
      guint8 len[4] = { der[i].size >> 24, der[i].size >> 16, der[i].size >> 8, der[i].size };

      g_byte_array_append (bytes, len, sizeof len);
      g_byte_array_append (bytes, der[i].data, der[i].size);
    }
  return g_byte_array_free_to_bytes (bytes);
}

/* Until when a decision about @certificate may be reused: not past the
 * end of any certificate of the chain, and not long in any case. */
static gint64
decision_valid_until (GTlsCertificate *certificate)
{
  gint64 until = g_get_real_time () + CERT_MEMORY_US;

  for (GTlsCertificate *c = certificate; c != NULL; c = g_tls_certificate_get_issuer (c))
    {
      g_autoptr(GDateTime) not_after = g_tls_certificate_get_not_valid_after (c);

      if (not_after == NULL)
        return 0;
      until = MIN (until, g_date_time_to_unix (not_after) * G_USEC_PER_SEC);
    }
  return until;
}

gboolean
mcr_tls_policy_check_peer (McrTlsPolicy          *policy,
                           McrTlsStream          *tls,
                           const char            *host,
                           int                    port,
                           McrTlsCertificateFunc  func,
                           gpointer               func_data,
                           GError               **error)
{
  g_autoptr(GTlsDatabase) database = NULL;
  g_autoptr(GSocketConnectable) identity = NULL;
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autoptr(GBytes) chain = NULL;
  const gnutls_datum_t *der;
  GTlsCertificateFlags errors;
  gboolean accepted;
  guint n = 0;

  g_return_val_if_fail (policy == NULL || MCR_IS_TLS_POLICY (policy), FALSE);
  g_return_val_if_fail (MCR_IS_TLS_STREAM (tls), FALSE);
  g_return_val_if_fail (host != NULL, FALSE);

  der = mcr_tls_stream_get_peer_der (tls, &n);
  if (der != NULL && policy != NULL)
    {
      chain = chain_bytes (der, n);
      if (mcr_tls_policy_accepted_before (policy, host, chain))
        return TRUE;
    }
  certificate = mcr_tls_stream_get_peer_certificate (tls, error);
  if (certificate == NULL)
    return FALSE;
  identity = g_network_address_new (host, (guint16) MAX (port, 0));
  /* The one shared default database: no connection gets its own copy of
   * the system trust list. */
  database = g_tls_backend_get_default_database (g_tls_backend_get_default ());
  if (database != NULL)
    errors = g_tls_database_verify_chain (database, certificate,
                                          G_TLS_DATABASE_PURPOSE_AUTHENTICATE_SERVER, identity,
                                          NULL, G_TLS_DATABASE_VERIFY_NONE, NULL, NULL);
  else
    errors = g_tls_certificate_verify (certificate, identity, NULL);
  if (errors == 0)
    accepted = TRUE;
  else if (policy != NULL)
    accepted = mcr_tls_policy_accepts (policy, certificate, errors);
  else if (func != NULL)
    accepted = func (certificate, errors, func_data);
  else
    accepted = FALSE;
  if (!accepted)
    {
      g_set_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE,
                   _("The certificate of %s is not trusted"), host);
      return FALSE;
    }
  if (chain != NULL)
    mcr_tls_policy_remember (policy, host, chain, decision_valid_until (certificate));
  return TRUE;
}
