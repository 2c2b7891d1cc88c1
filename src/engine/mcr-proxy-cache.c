/* mcr-proxy-cache.c: a proxy resolver that remembers its answers for a while
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * Every tunnel connects to the same server address, and GSocketClient asks
 * the proxy resolver each time: with the desktop's resolver that is a
 * libproxy lookup on a worker thread (reading /etc/services and more) on
 * the way of every tunnel's first byte. The answer for one URI is reused
 * for a few seconds: a changed proxy setting is seen by the tunnels that
 * start after that.
 */
#define G_LOG_DOMAIN "mcr-proxy-cache"

#include "config.h"

#include "mcr-proxy-cache.h"

/* A few server addresses at most; more means something odd: start over. */
#define MAX_ENTRIES 16

struct _McrProxyCache
{
  GObject         parent_instance;

  GProxyResolver *resolver;
  gint64          ttl_us;
  GHashTable     *answers;   /* URI → Answer */
};

typedef struct
{
  char  **proxies;
  gint64  expires;
} Answer;

static void mcr_proxy_cache_resolver_init (GProxyResolverInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (McrProxyCache, mcr_proxy_cache, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_PROXY_RESOLVER,
                                                      mcr_proxy_cache_resolver_init))

static void
answer_free (Answer *a)
{
  g_strfreev (a->proxies);
  g_free (a);
}

static char **
lookup_memory (McrProxyCache *self,
               const char    *uri)
{
  Answer *a = g_hash_table_lookup (self->answers, uri);

  if (a == NULL)
    return NULL;
  if (g_get_monotonic_time () >= a->expires)
    {
      g_hash_table_remove (self->answers, uri);
      return NULL;
    }
  return g_strdupv (a->proxies);
}

static void
remember (McrProxyCache *self,
          const char    *uri,
          char         **proxies)
{
  Answer *a;

  if (self->ttl_us == 0 || proxies == NULL)
    return;
  if (g_hash_table_size (self->answers) >= MAX_ENTRIES)
    g_hash_table_remove_all (self->answers);
  a = g_new0 (Answer, 1);
  a->proxies = g_strdupv (proxies);
  a->expires = g_get_monotonic_time () + self->ttl_us;
  g_hash_table_replace (self->answers, g_strdup (uri), a);
}

static gboolean
mcr_proxy_cache_is_supported (GProxyResolver *resolver)
{
  return g_proxy_resolver_is_supported (MCR_PROXY_CACHE (resolver)->resolver);
}

static char **
mcr_proxy_cache_lookup (GProxyResolver  *resolver,
                        const char      *uri,
                        GCancellable    *cancellable,
                        GError         **error)
{
  McrProxyCache *self = MCR_PROXY_CACHE (resolver);
  char **proxies = lookup_memory (self, uri);

  if (proxies != NULL)
    return proxies;
  proxies = g_proxy_resolver_lookup (self->resolver, uri, cancellable, error);
  remember (self, uri, proxies);
  return proxies;
}

static void
on_looked_up (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  McrProxyCache *self = g_task_get_source_object (task);
  GError *error = NULL;
  char **proxies = g_proxy_resolver_lookup_finish (G_PROXY_RESOLVER (source), result, &error);

  if (proxies == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  remember (self, g_task_get_task_data (task), proxies);
  g_task_return_pointer (task, proxies, (GDestroyNotify) g_strfreev);
}

static void
mcr_proxy_cache_lookup_async (GProxyResolver      *resolver,
                              const char          *uri,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  McrProxyCache *self = MCR_PROXY_CACHE (resolver);
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  char **proxies = lookup_memory (self, uri);

  g_task_set_source_tag (task, mcr_proxy_cache_lookup_async);
  if (proxies != NULL)
    {
      g_task_return_pointer (task, proxies, (GDestroyNotify) g_strfreev);
      return;
    }
  g_task_set_task_data (task, g_strdup (uri), g_free);
  g_proxy_resolver_lookup_async (self->resolver, uri, cancellable, on_looked_up,
                                 g_steal_pointer (&task));
}

static char **
mcr_proxy_cache_lookup_finish (GProxyResolver  *resolver,
                               GAsyncResult    *result,
                               GError         **error)
{
  g_return_val_if_fail (g_task_is_valid (result, resolver), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
mcr_proxy_cache_resolver_init (GProxyResolverInterface *iface)
{
  iface->is_supported = mcr_proxy_cache_is_supported;
  iface->lookup = mcr_proxy_cache_lookup;
  iface->lookup_async = mcr_proxy_cache_lookup_async;
  iface->lookup_finish = mcr_proxy_cache_lookup_finish;
}

static void
mcr_proxy_cache_finalize (GObject *object)
{
  McrProxyCache *self = MCR_PROXY_CACHE (object);

  g_clear_object (&self->resolver);
  g_clear_pointer (&self->answers, g_hash_table_unref);

  G_OBJECT_CLASS (mcr_proxy_cache_parent_class)->finalize (object);
}

static void
mcr_proxy_cache_class_init (McrProxyCacheClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = mcr_proxy_cache_finalize;
}

static void
mcr_proxy_cache_init (McrProxyCache *self)
{
  self->answers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify) answer_free);
}

McrProxyCache *
mcr_proxy_cache_new (GProxyResolver *resolver,
                     guint           ttl_seconds)
{
  McrProxyCache *self;

  g_return_val_if_fail (G_IS_PROXY_RESOLVER (resolver), NULL);

  self = g_object_new (MCR_TYPE_PROXY_CACHE, NULL);
  self->resolver = g_object_ref (resolver);
  self->ttl_us = (gint64) ttl_seconds * G_USEC_PER_SEC;
  return self;
}

GProxyResolver *
mcr_proxy_cache_get_resolver (McrProxyCache *self)
{
  g_return_val_if_fail (MCR_IS_PROXY_CACHE (self), NULL);
  return self->resolver;
}
