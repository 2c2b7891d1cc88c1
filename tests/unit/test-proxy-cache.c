/* SPDX-License-Identifier: Apache-2.0
 *
 * McrProxyCache over a resolver that counts its lookups: a URI answered a
 * moment ago is answered from memory, sync or async; another URI, an
 * expired answer or a failure goes to the resolver again. */
#include "mcr-proxy-cache.h"
#include "mcr-testbed.h"

#define TEST_TYPE_RESOLVER (test_resolver_get_type ())
G_DECLARE_FINAL_TYPE (TestResolver, test_resolver, TEST, RESOLVER, GObject)

struct _TestResolver
{
  GObject  parent_instance;
  guint    lookups;
  gboolean fail;
};

static void test_resolver_iface_init (GProxyResolverInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TestResolver, test_resolver, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_PROXY_RESOLVER,
                                                      test_resolver_iface_init))

static char **
test_resolver_lookup (GProxyResolver  *resolver,
                      const char      *uri,
                      GCancellable    *cancellable,
                      GError         **error)
{
  TestResolver *self = TEST_RESOLVER (resolver);
  const char *direct[] = { "direct://", NULL };
  const char *proxy[] = { "http://proxy.test:3128", NULL };

  self->lookups++;
  if (self->fail)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "no answer");
      return NULL;
    }
  return g_strdupv ((char **) (g_str_has_prefix (uri, "https://a") ? direct : proxy));
}

static void
test_resolver_lookup_async (GProxyResolver      *resolver,
                            const char          *uri,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (resolver, cancellable, callback, user_data);
  GError *error = NULL;
  char **proxies = test_resolver_lookup (resolver, uri, cancellable, &error);

  if (proxies == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, proxies, (GDestroyNotify) g_strfreev);
}

static char **
test_resolver_lookup_finish (GProxyResolver  *resolver,
                             GAsyncResult    *result,
                             GError         **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static gboolean
test_resolver_is_supported (GProxyResolver *resolver)
{
  return TRUE;
}

static void
test_resolver_iface_init (GProxyResolverInterface *iface)
{
  iface->is_supported = test_resolver_is_supported;
  iface->lookup = test_resolver_lookup;
  iface->lookup_async = test_resolver_lookup_async;
  iface->lookup_finish = test_resolver_lookup_finish;
}

static void
test_resolver_class_init (TestResolverClass *klass)
{
}

static void
test_resolver_init (TestResolver *self)
{
}

typedef struct
{
  gboolean  done;
  char    **proxies;
  GError   *error;
} Lookup;

static void
on_looked_up (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Lookup *l = user_data;

  l->proxies = g_proxy_resolver_lookup_finish (G_PROXY_RESOLVER (source), result, &l->error);
  l->done = TRUE;
}

/* An async lookup through @cache; the first proxy, or NULL on failure. */
static char *
lookup_async (McrProxyCache *cache,
              const char    *uri)
{
  Lookup l = { 0 };
  char *first = NULL;

  g_proxy_resolver_lookup_async (G_PROXY_RESOLVER (cache), uri, NULL, on_looked_up, &l);
  g_assert_false (l.done);  /* never before the call returns */
  g_assert_true (mcr_test_wait_flag (&l.done, 5000));
  if (l.proxies != NULL)
    first = g_strdup (l.proxies[0]);
  g_strfreev (l.proxies);
  g_clear_error (&l.error);
  return first;
}

static void
test_remembers (void)
{
  g_autoptr(TestResolver) inner = g_object_new (TEST_TYPE_RESOLVER, NULL);
  g_autoptr(McrProxyCache) cache = mcr_proxy_cache_new (G_PROXY_RESOLVER (inner), 60);
  g_auto(GStrv) sync = NULL;
  g_autofree char *a1 = NULL, *a2 = NULL, *b1 = NULL, *a3 = NULL;

  g_assert_true (mcr_proxy_cache_get_resolver (cache) == G_PROXY_RESOLVER (inner));
  a1 = lookup_async (cache, "https://a.test:443");
  a2 = lookup_async (cache, "https://a.test:443");
  g_assert_cmpstr (a1, ==, "direct://");
  g_assert_cmpstr (a2, ==, "direct://");
  g_assert_cmpuint (inner->lookups, ==, 1);

  b1 = lookup_async (cache, "https://b.test:443");
  g_assert_cmpstr (b1, ==, "http://proxy.test:3128");
  g_assert_cmpuint (inner->lookups, ==, 2);

  sync = g_proxy_resolver_lookup (G_PROXY_RESOLVER (cache), "https://b.test:443", NULL, NULL);
  g_assert_cmpstr (sync[0], ==, "http://proxy.test:3128");
  g_assert_cmpuint (inner->lookups, ==, 2);

  /* Failures are not remembered. */
  inner->fail = TRUE;
  a3 = lookup_async (cache, "https://c.test:443");
  g_assert_null (a3);
  g_assert_null (lookup_async (cache, "https://c.test:443"));
  g_assert_cmpuint (inner->lookups, ==, 4);
}

static void
test_expires (void)
{
  g_autoptr(TestResolver) inner = g_object_new (TEST_TYPE_RESOLVER, NULL);
  g_autoptr(McrProxyCache) cache = mcr_proxy_cache_new (G_PROXY_RESOLVER (inner), 0);
  g_autofree char *a1 = lookup_async (cache, "https://a.test:443");
  g_autofree char *a2 = lookup_async (cache, "https://a.test:443");

  g_assert_cmpstr (a2, ==, "direct://");
  g_assert_cmpuint (inner->lookups, ==, 2);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/proxy-cache/remembers", test_remembers);
  g_test_add_func ("/proxy-cache/expires", test_expires);
  return g_test_run ();
}
