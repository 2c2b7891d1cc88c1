/* SPDX-License-Identifier: Apache-2.0 */
#include "mcr-router-url.h"
#include "mcr-server-address.h"
#include "mcr-server.h"

#define HASH "6C2D6D9096C21F5633D46731950B2FFDE4086114BFB750606A9FA8C08098665BC595CD892C4A439A4B7C68D712A6F0EB"
#define HASH_LOWER "6c2d6d9096c21f5633d46731950b2ffde4086114bfb750606a9fa8c08098665bc595cd892c4a439a4b7c68d712a6f0eb"
/* A cookie as MeshCentral encodes them: base64 with '@' and '$'. */
#define COOKIE "Ck3q@JZ$0aTrXv9mW1bLx2yK$PQ@fG7hN0sD4eR5tY6uI8oP"
#define NODE "node//qW3rT5yU7iO9pA1sD3fG5hJ7kL9zX1cV3bN5mQ7wE9rT1y$U3iO5pA7sD9f@G1h"
#define WEB "mcrouter://mesh.example.com/control.ashx?c=" COOKIE "&t=" HASH "&l=en"

typedef struct
{
  const char *url;
  const char *host;
  guint16     port;
  const char *domain;
  const char *hash;
  const char *language;
  const char *key;
  const char *address;
  gboolean    has_map;
  McrProtocol protocol;
  guint16     remote_port;
  guint16     local_port;
  McrAppId    app_id;
  const char *remote_ip;
  const char *name;
  gboolean    auto_exit;
} Good;

static const Good good[] = {
  /* The web UI's "Launch MeshCentral Router" button. */
  { WEB, "mesh.example.com", 443, NULL, HASH, "en", NULL, "mesh.example.com" },
  /* A port, a domain, a login key (urlargs.key, passed on as typed). */
  { "mcrouter://mesh.example.com:4443/sales/control.ashx?c=" COOKIE "&t=" HASH "&l=zh-chs&key=Zk8s%2BQ",
    "mesh.example.com", 4443, "sales", HASH, "zh-chs", "Zk8s+Q", "mesh.example.com:4443/sales?key=Zk8s%2BQ" },
  /* A device's RDP button: getcookie with tag MCRouter. */
  { WEB "&nodeid=" NODE "&protocol=1&remoteport=3389&name=Caf%C3%A9%20%27PC%27%20%22x%22&appid=3&autoexit=1",
    "mesh.example.com", 443, NULL, HASH, "en", NULL, "mesh.example.com",
    TRUE, MCR_PROTOCOL_TCP, 3389, 0, MCR_APP_RDP, NULL, "Café 'PC' \"x\"", TRUE },
  /* An agentless device (local=1), a relay address, a local port. */
  { WEB "&nodeid=" NODE "&protocol=1&remoteport=80&local=1&localport=8080&remoteip=192.168.1.20&appid=1&autoexit=1",
    "mesh.example.com", 443, NULL, HASH, "en", NULL, "mesh.example.com",
    TRUE, MCR_PROTOCOL_TCP, 80, 8080, MCR_APP_HTTP, "192.168.1.20", NULL, TRUE },
  /* UDP, no app, no autoexit; 'launch' is never used. */
  { WEB "&nodeid=" NODE "&protocol=2&remoteport=53&localport=0&appid=0&launch=calc.exe",
    "mesh.example.com", 443, NULL, HASH, "en", NULL, "mesh.example.com",
    TRUE, MCR_PROTOCOL_UDP, 53, 0, MCR_APP_CUSTOM, NULL, NULL, FALSE },
  { WEB "&nodeid=" NODE "&remoteport=22&protocol=1&appid=4&autoexit=0&remoteip=fe80::1",
    "mesh.example.com", 443, NULL, HASH, "en", NULL, "mesh.example.com",
    TRUE, MCR_PROTOCOL_TCP, 22, 0, MCR_APP_SSH, "fe80::1", NULL, FALSE },
  /* IPv6 server; no t, no l. */
  { "mcrouter://[::1]:8443/control.ashx?c=" COOKIE,
    "::1", 8443, NULL, NULL, NULL, NULL, "[::1]:8443" },
  /* Scheme in any case, hash in lowercase, port 443 written out. */
  { "MCRouter://Mesh.Example.com:443/control.ashx?t=" HASH_LOWER "&c=" COOKIE,
    "Mesh.Example.com", 443, NULL, HASH, NULL, NULL, "Mesh.Example.com" },
  /* Pasted with white space, a fragment, unknown parameters. */
  { "  mcrouter://10.0.0.5/a/b-c/control.ashx?foo=bar&x&c=" COOKIE "&l=pt-br#frag ment\n",
    "10.0.0.5", 443, "a/b-c", NULL, "pt-br", NULL, "10.0.0.5/a/b-c" },
  { "mcrouter://h/CONTROL.ASHX?c=" COOKIE "&key=a%20b%26c",
    "h", 443, NULL, NULL, NULL, "a b&c", "h?key=a%20b%26c" },
};

static void
test_good (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      const Good *g = &good[i];
      g_autoptr(GError) error = NULL;
      g_autoptr(McrRouterUrl) url = mcr_router_url_parse (g->url, &error);
      g_autoptr(McrRouterUrl) copy = NULL;
      g_autofree char *address = NULL;

      g_test_message ("%u: %s", i, g->url);
      g_assert_no_error (error);
      g_assert_cmpstr (url->host, ==, g->host);
      g_assert_cmpuint (url->port, ==, g->port);
      g_assert_cmpstr (url->domain, ==, g->domain);
      g_assert_cmpstr (url->auth_cookie, ==, COOKIE);
      g_assert_cmpstr (url->cert_hash, ==, g->hash);
      g_assert_cmpstr (url->language, ==, g->language);
      g_assert_cmpstr (url->login_key, ==, g->key);
      address = mcr_router_url_get_server_address (url);
      g_assert_cmpstr (address, ==, g->address);

      if (!g->has_map)
        g_assert_null (url->map);
      else
        {
          g_assert_nonnull (url->map);
          g_assert_cmpstr (url->map->node_id, ==, NODE);
          g_assert_null (url->map->node_name);
          g_assert_cmpint (url->map->protocol, ==, g->protocol);
          g_assert_cmpuint (url->map->remote_port, ==, g->remote_port);
          g_assert_cmpuint (url->map->local_port, ==, g->local_port);
          g_assert_cmpint (url->map->app_id, ==, g->app_id);
          g_assert_null (url->map->app_name);
          g_assert_cmpstr (url->map->remote_ip, ==, g->remote_ip);
          g_assert_cmpstr (url->map->name, ==, g->name);
          g_assert_cmpint (url->map->auto_exit, ==, g->auto_exit);
          g_assert_true (url->map->launch);
        }

      copy = mcr_router_url_copy (url);
      g_assert_cmpstr (copy->auth_cookie, ==, url->auth_cookie);
      g_assert_cmpstr (copy->host, ==, url->host);
      g_assert_true ((copy->map == NULL) == (url->map == NULL));
    }
}

#define LINK "mcrouter://h.example.com/control.ashx?c=SECRETCOOKIE"
#define MAP LINK "&nodeid=node//abc"

static const struct
{
  const char        *url;
  McrRouterUrlError  code;
  const char        *message; /* after "Invalid mcrouter:// link: " */
} bad[] = {
  { "https://h.example.com/control.ashx?c=SECRETCOOKIE", MCR_ROUTER_URL_ERROR_INVALID, "it does not start with mcrouter://" },
  { "mcrouter:h.example.com/control.ashx?c=SECRETCOOKIE", MCR_ROUTER_URL_ERROR_INVALID, "it does not start with mcrouter://" },
  { "", MCR_ROUTER_URL_ERROR_INVALID, "it does not start with mcrouter://" },
  { "mcrouter:///control.ashx?c=SECRETCOOKIE", MCR_ROUTER_URL_ERROR_INVALID, "the server name is missing" },
  { "mcrouter://:443/control.ashx?c=SECRETCOOKIE", MCR_ROUTER_URL_ERROR_INVALID, "the server name is missing" },
  { "mcrouter://bob:pw@h.example.com/control.ashx?c=SECRETCOOKIE", MCR_ROUTER_URL_ERROR_INVALID, "a user name before the server name is not allowed" },
  { "mcrouter://h.example.com:0/control.ashx?c=SECRETCOOKIE", MCR_ROUTER_URL_ERROR_INVALID, "the port must be a number from 1 to 65535" },
  { "mcrouter://h.example.com:65536/control.ashx?c=SECRETCOOKIE", MCR_ROUTER_URL_ERROR_INVALID, "the port must be a number from 1 to 65535" },
  { "mcrouter://h.example.com:44x/control.ashx?c=SECRETCOOKIE", MCR_ROUTER_URL_ERROR_INVALID, "the port must be a number from 1 to 65535" },
  { "mcrouter://h.example.com:/control.ashx?c=SECRETCOOKIE", MCR_ROUTER_URL_ERROR_INVALID, "the port must be a number from 1 to 65535" },
  { "mcrouter://h.example.com:+443/control.ashx?c=SECRETCOOKIE", MCR_ROUTER_URL_ERROR_INVALID, "the port must be a number from 1 to 65535" },
  { "mcrouter://[::1/control.ashx?c=SECRETCOOKIE", MCR_ROUTER_URL_ERROR_INVALID, "an IPv6 address is missing its closing ']'" },
  { "mcrouter://[10.0.0.1]/control.ashx?c=SECRETCOOKIE", MCR_ROUTER_URL_ERROR_INVALID, "the address in '[…]' is not an IPv6 address" },
  { "mcrouter://[::1]x/control.ashx?c=SECRETCOOKIE", MCR_ROUTER_URL_ERROR_INVALID, "the port must be a number from 1 to 65535" },
  { "mcrouter://h!x.example.com/control.ashx?c=SECRETCOOKIE", MCR_ROUTER_URL_ERROR_INVALID, "the server name holds a character that is not allowed" },
  { "mcrouter://h%41.example.com/control.ashx?c=SECRETCOOKIE", MCR_ROUTER_URL_ERROR_INVALID, "the server name holds a character that is not allowed" },
  { "mcrouter://h.example.com/control.ashx", MCR_ROUTER_URL_ERROR_INVALID, "the login cookie ('c') is missing" },
  { "mcrouter://h.example.com/?c=SECRETCOOKIE", MCR_ROUTER_URL_ERROR_INVALID, "the path must end in /control.ashx" },
  { "mcrouter://h.example.com?c=SECRETCOOKIE", MCR_ROUTER_URL_ERROR_INVALID, "the path must end in /control.ashx" },
  { "mcrouter://h.example.com/meshrelay.ashx?c=SECRETCOOKIE", MCR_ROUTER_URL_ERROR_INVALID, "the path must end in /control.ashx" },
  { "mcrouter://h.example.com/control.ashx/?c=SECRETCOOKIE", MCR_ROUTER_URL_ERROR_INVALID, "the path must end in /control.ashx" },
  { "mcrouter://h.example.com/../control.ashx?c=SECRETCOOKIE", MCR_ROUTER_URL_ERROR_INVALID, "the domain in the path is malformed" },
  { "mcrouter://h.example.com//control.ashx?c=SECRETCOOKIE", MCR_ROUTER_URL_ERROR_INVALID, "the domain in the path is malformed" },
  { "mcrouter://h.example.com/a%2Fb/control.ashx?c=SECRETCOOKIE", MCR_ROUTER_URL_ERROR_INVALID, "the domain in the path holds a character that is not allowed" },
  { "mcrouter://h.example.com/control.ashx?t=" HASH, MCR_ROUTER_URL_ERROR_INVALID, "the login cookie ('c') is missing" },
  { "mcrouter://h.example.com/control.ashx?c=", MCR_ROUTER_URL_ERROR_INVALID, "the login cookie ('c') is missing" },
  { "mcrouter://h.example.com/control.ashx?c", MCR_ROUTER_URL_ERROR_INVALID, "the login cookie ('c') is missing" },
  { LINK "&c=SECRETCOOKIE2", MCR_ROUTER_URL_ERROR_INVALID, "'c' appears twice" },
  { LINK "%zz", MCR_ROUTER_URL_ERROR_INVALID, "the value of 'c' has a malformed %-escape" },
  { LINK "%4", MCR_ROUTER_URL_ERROR_INVALID, "the value of 'c' has a malformed %-escape" },
  { LINK "%00x", MCR_ROUTER_URL_ERROR_INVALID, "the value of 'c' has a malformed %-escape" },
  { LINK "%20x", MCR_ROUTER_URL_ERROR_INVALID, "the login cookie ('c') is malformed" },
  { LINK "%C3%A9", MCR_ROUTER_URL_ERROR_INVALID, "the login cookie ('c') is malformed" },
  { LINK "&t=ABC", MCR_ROUTER_URL_ERROR_INVALID, "the certificate hash ('t') must be 96 hexadecimal digits" },
  { LINK "&t=", MCR_ROUTER_URL_ERROR_INVALID, "the certificate hash ('t') must be 96 hexadecimal digits" },
  { LINK "&t=undefined", MCR_ROUTER_URL_ERROR_INVALID, "the certificate hash ('t') must be 96 hexadecimal digits" },
  { LINK "&t=" HASH "0", MCR_ROUTER_URL_ERROR_INVALID, "the certificate hash ('t') must be 96 hexadecimal digits" },
  { LINK "&t=G" HASH_LOWER "", MCR_ROUTER_URL_ERROR_INVALID, "the certificate hash ('t') must be 96 hexadecimal digits" },
  { LINK "&l=en%3Cscript%3E", MCR_ROUTER_URL_ERROR_INVALID, "the language ('l') is not a language code" },
  { LINK "&l=", MCR_ROUTER_URL_ERROR_INVALID, "the language ('l') is not a language code" },
  { LINK "&key=", MCR_ROUTER_URL_ERROR_INVALID, "the login key ('key') is malformed" },
  { LINK "&key=a%0Ab", MCR_ROUTER_URL_ERROR_INVALID, "the login key ('key') is malformed" },
  { LINK "&protocol=1&remoteport=3389", MCR_ROUTER_URL_ERROR_INVALID, "'nodeid' is missing" },
  { LINK "&appid=3&autoexit=1", MCR_ROUTER_URL_ERROR_INVALID, "'nodeid' is missing" },
  { LINK "&nodeid=mesh//abc&protocol=1&remoteport=3389", MCR_ROUTER_URL_ERROR_INVALID, "'nodeid' must be a device id (node//ID, or node/DOMAIN/ID outside the default domain)" },
  { LINK "&nodeid=node//&protocol=1&remoteport=3389", MCR_ROUTER_URL_ERROR_INVALID, "'nodeid' must be a device id (node//ID, or node/DOMAIN/ID outside the default domain)" },
  { LINK "&nodeid=node/my%20domain/abc&protocol=1&remoteport=3389", MCR_ROUTER_URL_ERROR_INVALID, "'nodeid' must be a device id (node//ID, or node/DOMAIN/ID outside the default domain)" },
  { LINK "&nodeid=node/other/&protocol=1&remoteport=3389", MCR_ROUTER_URL_ERROR_INVALID, "'nodeid' must be a device id (node//ID, or node/DOMAIN/ID outside the default domain)" },
  { LINK "&nodeid=node//a%20b&protocol=1&remoteport=3389", MCR_ROUTER_URL_ERROR_INVALID, "'nodeid' must be a device id (node//ID, or node/DOMAIN/ID outside the default domain)" },
  { MAP "&remoteport=3389", MCR_ROUTER_URL_ERROR_INVALID, "'protocol' is missing" },
  { MAP "&protocol=3&remoteport=3389", MCR_ROUTER_URL_ERROR_INVALID, "'protocol' must be 1 (TCP) or 2 (UDP)" },
  { MAP "&protocol=tcp&remoteport=3389", MCR_ROUTER_URL_ERROR_INVALID, "'protocol' must be 1 (TCP) or 2 (UDP)" },
  { MAP "&protocol=1", MCR_ROUTER_URL_ERROR_INVALID, "'remoteport' is missing" },
  { MAP "&protocol=1&remoteport=0", MCR_ROUTER_URL_ERROR_INVALID, "'remoteport' must be a number from 1 to 65535" },
  { MAP "&protocol=1&remoteport=65536", MCR_ROUTER_URL_ERROR_INVALID, "'remoteport' must be a number from 1 to 65535" },
  { MAP "&protocol=1&remoteport=99999999999999999999999", MCR_ROUTER_URL_ERROR_INVALID, "'remoteport' must be a number from 1 to 65535" },
  { MAP "&protocol=1&remoteport=22&localport=70000", MCR_ROUTER_URL_ERROR_INVALID, "'localport' must be a number from 0 to 65535" },
  { MAP "&protocol=1&remoteport=22&localport=-1", MCR_ROUTER_URL_ERROR_INVALID, "'localport' must be a number from 0 to 65535" },
  { MAP "&protocol=1&remoteport=22&localport=", MCR_ROUTER_URL_ERROR_INVALID, "'localport' must be a number from 0 to 65535" },
  { MAP "&protocol=1&remoteport=22&protocol=2", MCR_ROUTER_URL_ERROR_INVALID, "'protocol' appears twice" },
  /* What the web UI sends for the Windows router's own viewers. */
  { MAP "&appid=6&autoexit=1", MCR_ROUTER_URL_ERROR_UNSUPPORTED, "it asks for the Windows router's own remote desktop viewer" },
  { MAP "&appid=7&autoexit=1", MCR_ROUTER_URL_ERROR_UNSUPPORTED, "it asks for the Windows router's own file viewer" },
  { MAP "&protocol=1&remoteport=22&appid=9", MCR_ROUTER_URL_ERROR_INVALID, "'appid' must be a number from 0 to 5" },
  { MAP "&protocol=1&remoteport=22&appid=x", MCR_ROUTER_URL_ERROR_INVALID, "'appid' must be a number from 0 to" },
  { MAP "&protocol=2&remoteport=53&appid=3", MCR_ROUTER_URL_ERROR_INVALID, "a UDP map cannot open an app; 'appid' must be 0" },
  { MAP "&protocol=1&remoteport=22&remoteip=bad%20host", MCR_ROUTER_URL_ERROR_INVALID, "'remoteip' is not an IP address or host name" },
  { MAP "&protocol=1&remoteport=22&remoteip=", MCR_ROUTER_URL_ERROR_INVALID, "'remoteip' is not an IP address or host name" },
  { MAP "&protocol=1&remoteport=22&autoexit=yes", MCR_ROUTER_URL_ERROR_INVALID, "'autoexit' must be 0 or 1" },
  { MAP "&protocol=1&remoteport=22&name=%E9t%E9", MCR_ROUTER_URL_ERROR_INVALID, "the value of 'name' has a malformed %-escape" },
  { MAP "&protocol=1&remoteport=22&name=My PC", MCR_ROUTER_URL_ERROR_INVALID, "it holds spaces or characters that must be %-encoded" },
  { MAP "&protocol=1&remoteport=22&name=Büro", MCR_ROUTER_URL_ERROR_INVALID, "it holds spaces or characters that must be %-encoded" },
  { LINK "\x01", MCR_ROUTER_URL_ERROR_INVALID, "it holds spaces or characters that must be %-encoded" },
};

static void
test_bad (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *expected = g_strconcat ("Invalid mcrouter:// link: ", bad[i].message, NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(McrRouterUrl) url = mcr_router_url_parse (bad[i].url, &error);

      g_test_message ("%u: %s → %s", i, bad[i].url, error ? error->message : "(parsed)");
      g_assert_null (url);
      g_assert_error (error, MCR_ROUTER_URL_ERROR, (int) bad[i].code);
      g_assert_true (g_str_has_prefix (error->message, expected));
      /* Never the secret. */
      g_assert_null (strstr (error->message, "SECRET"));
    }
}

/* A link from the web UI of a second domain: its device id names the
 * domain (node/DOMAIN/ID), and so does the path. */
static void
test_other_domain (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(McrRouterUrl) url =
    mcr_router_url_parse ("mcrouter://10.0.0.5:4443/other/control.ashx?c=" COOKIE
                          "&nodeid=node%2Fother%2FAb%24cD%40eF0&protocol=1&remoteport=22", &error);

  g_assert_no_error (error);
  g_assert_cmpstr (url->domain, ==, "other");
  g_assert_nonnull (url->map);
  g_assert_cmpstr (url->map->node_id, ==, "node/other/Ab$cD@eF0");
}

static void
test_too_long (void)
{
  g_autoptr(GString) s = g_string_new (LINK "&x=");
  g_autoptr(GError) error = NULL;
  g_autoptr(McrRouterUrl) url = NULL;
  g_autofree char *host = g_strnfill (254, 'a');
  g_autofree char *long_host = g_strconcat ("mcrouter://", host, "/control.ashx?c=x", NULL);

  while (s->len <= MCR_ROUTER_URL_MAX_LENGTH)
    g_string_append_c (s, 'y');
  url = mcr_router_url_parse (s->str, &error);
  g_assert_null (url);
  g_assert_error (error, MCR_ROUTER_URL_ERROR, MCR_ROUTER_URL_ERROR_INVALID);
  g_assert_cmpstr (error->message, ==, "Invalid mcrouter:// link: it is longer than 8192 characters");
  g_clear_error (&error);

  /* Just under the limit is fine. */
  g_string_truncate (s, MCR_ROUTER_URL_MAX_LENGTH);
  url = mcr_router_url_parse (s->str, &error);
  g_assert_no_error (error);
  g_clear_pointer (&url, mcr_router_url_free);

  url = mcr_router_url_parse (long_host, &error);
  g_assert_null (url);
  g_assert_cmpstr (error->message, ==, "Invalid mcrouter:// link: the server name is too long");
}

static void
test_boxed (void)
{
  g_autoptr(McrRouterUrl) url = mcr_router_url_parse (good[2].url, NULL);
  GValue value = G_VALUE_INIT;
  McrRouterUrl *copy;

  g_value_init (&value, MCR_TYPE_ROUTER_URL);
  g_value_set_boxed (&value, url);
  copy = g_value_get_boxed (&value);
  g_assert_true (copy != url);
  g_assert_cmpstr (copy->map->name, ==, url->map->name);
  g_value_unset (&value);
}

/* As the window asks it: is @address for the server we are logged into? */
static gboolean
same_server (McrServer  *server,
             const char *address)
{
  return mcr_server_address_same_server (mcr_server_get_display_name (server), address);
}

/* Is a link (or a file's hostname) for the server we are logged into? The
 * host without case, the port (443 by default) and the domain; not the
 * login key. */
static void
test_same_server (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(McrServer) server = mcr_server_new ("Mesh.Example.com/sales?key=abc", &error);
  g_autoptr(McrRouterUrl) url = NULL;
  g_autofree char *address = NULL;

  g_assert_no_error (error);
  g_assert_true (same_server (server, "mesh.example.com:443/sales"));
  g_assert_true (same_server (server, "MESH.example.com/sales?key=other"));
  g_assert_false (same_server (server, "mesh.example.com"));
  g_assert_false (same_server (server, "mesh.example.com:4443/sales"));
  g_assert_false (same_server (server, "other.example.com/sales"));
  g_assert_false (same_server (server, "not a server"));
  g_assert_false (same_server (server, NULL));

  url = mcr_router_url_parse ("mcrouter://mesh.example.com/sales/control.ashx?c=Q29va2ll&t="
                              "6C2D6D9096C21F5633D46731950B2FFDE4086114BFB750606A9FA8C08098665B"
                              "C595CD892C4A439A4B7C68D712A6F0EB", &error);
  g_assert_no_error (error);
  address = mcr_router_url_get_server_address (url);
  g_assert_true (same_server (server, address));
}

/* The same comparison without a McrServer: both sides are addresses as
 * users, files and links write them. */
static void
test_address_same_server (void)
{
  const char *base = "Mesh.Example.com/sales?key=abc";

  g_assert_true (mcr_server_address_same_server (base, "mesh.example.com:443/sales"));
  g_assert_true (mcr_server_address_same_server (base, "MESH.example.com/sales?key=other"));
  g_assert_true (mcr_server_address_same_server (base, "wss://mesh.example.com/sales/control.ashx"));
  g_assert_true (mcr_server_address_same_server ("mesh.example.com", "https://mesh.example.com/"));
  g_assert_true (mcr_server_address_same_server ("[::1]:443", "::1"));
  g_assert_false (mcr_server_address_same_server ("[::1]:4443", "::1"));
  g_assert_false (mcr_server_address_same_server (base, "mesh.example.com"));
  g_assert_false (mcr_server_address_same_server (base, "mesh.example.com:4443/sales"));
  g_assert_false (mcr_server_address_same_server (base, "other.example.com/sales"));
  g_assert_false (mcr_server_address_same_server (base, "not a server"));
  g_assert_false (mcr_server_address_same_server ("not a server", "not a server"));
  g_assert_false (mcr_server_address_same_server (base, NULL));
  g_assert_false (mcr_server_address_same_server (NULL, base));
}

/* "host[:port][/domain]" for messages: no key, no scheme, no default port;
 * what does not parse comes back as it was given. */
static void
test_address_display_name (void)
{
  static const struct
  {
    const char *address;
    const char *shown;
  } cases[] = {
    { "Mesh.Example.com/sales?key=secret", "mesh.example.com/sales" },
    { "mesh.example.com:443", "mesh.example.com" },
    { "wss://mesh.example.com:4443/control.ashx", "mesh.example.com:4443" },
    { "mcrouter://127.0.0.1:8443/a/b/", "127.0.0.1:8443/a/b" },
    { "[::1]:4443", "[::1]:4443" },
    { "::1", "[::1]" },
    { "not a server", "not a server" },
    { "", "" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *shown = mcr_server_address_display_name (cases[i].address);
      g_autoptr(McrServer) server = mcr_server_new (cases[i].address, NULL);

      g_assert_cmpstr (shown, ==, cases[i].shown);
      /* As a McrServer names itself, and it names the same server again. */
      if (server != NULL)
        {
          g_assert_cmpstr (shown, ==, mcr_server_get_display_name (server));
          g_assert_true (mcr_server_address_same_server (shown, cases[i].address));
        }
    }
  g_assert_null (mcr_server_address_display_name (NULL));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/router-url/good", test_good);
  g_test_add_func ("/router-url/bad", test_bad);
  g_test_add_func ("/router-url/other-domain", test_other_domain);
  g_test_add_func ("/router-url/too-long", test_too_long);
  g_test_add_func ("/router-url/boxed", test_boxed);
  g_test_add_func ("/router-url/same-server", test_same_server);
  g_test_add_func ("/server-address/same-server", test_address_same_server);
  g_test_add_func ("/server-address/display-name", test_address_display_name);
  return g_test_run ();
}
