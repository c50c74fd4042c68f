/* Unit tests for swarm/config.h: defaults, environment, flags, BOOTSTRAP_PEERS and validators. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swarm/config.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof *(a)))

static swarm_config cfg; /* large (bootstrap array): keep it off the stack */
static char err[512];

static void ns_defaults(void) { swarm_config_defaults(&cfg, "NS", 3009); }

/* Loads ns defaults with one "NAME=value" environment entry and no flags. */
static int load_env1(const char *name_value)
{
    char *envp[] = {(char *)name_value, NULL};
    char *argv[] = {"ns-node", NULL};
    ns_defaults();
    return swarm_config_load(&cfg, envp, 1, argv, err, sizeof err, NULL);
}

static int load_args(int argc, char **argv)
{
    ns_defaults();
    return swarm_config_load(&cfg, NULL, argc, argv, err, sizeof err, NULL);
}

/* The error must name the setting and quote the offending token. */
static void expect_error_mentions(const char *name, const char *token)
{
    char quoted[300];
    snprintf(quoted, sizeof quoted, "'%s'", token);
    if (!strstr(err, name) || !strstr(err, quoted))
        fail_msg("error \"%s\" should mention %s and %s", err, name, quoted);
}

static void expect_env_error(const char *name, const char *value, const char *token)
{
    char nv[300];
    snprintf(nv, sizeof nv, "%s=%s", name, value);
    err[0] = 0;
    assert_int_equal(load_env1(nv), SWARM_CONFIG_ERROR);
    expect_error_mentions(name, token);
}

/* ---- defaults ---- */

static void test_defaults(void **state)
{
    (void)state;
    swarm_config_defaults(&cfg, "Gateway", 8080);
    assert_string_equal(cfg.node_type, "Gateway");
    assert_int_equal(cfg.port, 8080);
    assert_int_equal(cfg.max_peers, 8);
    assert_int_equal(cfg.max_body, 1024 * 1024);
    assert_int_equal(cfg.log_level, SWARM_LOG_INFO);
    assert_false(cfg.tls);
    assert_int_equal(cfg.n_bootstrap, 0);
    assert_string_equal(cfg.node_id, "");
    assert_string_equal(cfg.bind_host, "");
    assert_string_equal(cfg.advertise_host, "");
}

static void test_default_data_dir_uses_lowercase_type_and_port(void **state)
{
    (void)state;
    char *argv[] = {"gateway-node", NULL};
    swarm_config_defaults(&cfg, "Gateway", 8080);
    assert_int_equal(swarm_config_load(&cfg, NULL, 1, argv, err, sizeof err, NULL), SWARM_CONFIG_OK);
    assert_string_equal(cfg.data_dir, "data/gateway-8080");
    assert_int_equal(cfg.port, 8080);
    assert_int_equal(cfg.max_peers, 8);
}

static void test_default_data_dir_follows_configured_port(void **state)
{
    (void)state;
    assert_int_equal(load_env1("PORT=4000"), SWARM_CONFIG_OK);
    assert_string_equal(cfg.data_dir, "data/ns-4000");
}

/* ---- good environment values ---- */

static void test_env_port(void **state)
{
    (void)state;
    assert_int_equal(load_env1("PORT=5000"), SWARM_CONFIG_OK);
    assert_int_equal(cfg.port, 5000);
    assert_string_equal(err, "");
}

static void test_env_ignores_similar_names(void **state)
{
    (void)state;
    char *envp[] = {"PORTX=1", "XPORT=2", "HOME=/root", NULL};
    char *argv[] = {"ns-node", NULL};
    ns_defaults();
    assert_int_equal(swarm_config_load(&cfg, envp, 1, argv, err, sizeof err, NULL), SWARM_CONFIG_OK);
    assert_int_equal(cfg.port, 3009);
}

static void test_env_many_settings(void **state)
{
    (void)state;
    char *envp[] = {"MAX_PEERS=42", "NODE_ID=ns-node_1.a:b", "DATA_DIR=/var/lib/swarm",
                    "LOG_LEVEL=DeBuG", "BIND_HOST=127.0.0.1", "ADVERTISE_HOST=node.example",
                    "MAX_BODY_BYTES=2048", NULL};
    char *argv[] = {"ns-node", NULL};
    ns_defaults();
    assert_int_equal(swarm_config_load(&cfg, envp, 1, argv, err, sizeof err, NULL), SWARM_CONFIG_OK);
    assert_int_equal(cfg.max_peers, 42);
    assert_string_equal(cfg.node_id, "ns-node_1.a:b");
    assert_string_equal(cfg.data_dir, "/var/lib/swarm");
    assert_int_equal(cfg.log_level, SWARM_LOG_DEBUG);
    assert_string_equal(cfg.bind_host, "127.0.0.1");
    assert_string_equal(cfg.advertise_host, "node.example");
    assert_int_equal(cfg.max_body, 2048);
}

static void test_env_log_level_any_case(void **state)
{
    (void)state;
    static const struct {
        const char *env;
        swarm_log_level want;
    } cases[] = {
        {"LOG_LEVEL=error", SWARM_LOG_ERROR}, {"LOG_LEVEL=WARN", SWARM_LOG_WARN},
        {"LOG_LEVEL=Info", SWARM_LOG_INFO},   {"LOG_LEVEL=debug", SWARM_LOG_DEBUG},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        assert_int_equal(load_env1(cases[i].env), SWARM_CONFIG_OK);
        assert_int_equal(cfg.log_level, cases[i].want);
    }
}

static void test_env_tls_booleans(void **state)
{
    (void)state;
    static const char *const yes[] = {"true", "TRUE", "1", "yes", "on"};
    static const char *const no[] = {"false", "False", "0", "no", "off"};
    char nv[64];
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        snprintf(nv, sizeof nv, "P2P_ENABLE_TLS=%s", yes[i]);
        assert_int_equal(load_env1(nv), SWARM_CONFIG_OK);
        assert_true(cfg.tls);
    }
    for (size_t i = 0; i < sizeof no / sizeof *no; i++) {
        snprintf(nv, sizeof nv, "P2P_ENABLE_TLS=%s", no[i]);
        ns_defaults();
        cfg.tls = true; /* so that "false" visibly changes it */
        char *envp[] = {nv, NULL};
        char *argv[] = {"ns-node", NULL};
        assert_int_equal(swarm_config_load(&cfg, envp, 1, argv, err, sizeof err, NULL), SWARM_CONFIG_OK);
        assert_false(cfg.tls);
    }
}

static void test_env_bootstrap_peers(void **state)
{
    (void)state;
    assert_int_equal(load_env1("BOOTSTRAP_PEERS=ns1:3009:NS, gw.local:8080 ,[::1]:3010:VP"),
                     SWARM_CONFIG_OK);
    assert_int_equal(cfg.n_bootstrap, 3);
    assert_string_equal(cfg.bootstrap[0].host, "ns1");
    assert_int_equal(cfg.bootstrap[0].port, 3009);
    assert_string_equal(cfg.bootstrap[0].node_type, "NS");
    assert_string_equal(cfg.bootstrap[1].host, "gw.local");
    assert_int_equal(cfg.bootstrap[1].port, 8080);
    assert_string_equal(cfg.bootstrap[1].node_type, "");
    assert_string_equal(cfg.bootstrap[2].host, "::1");
    assert_int_equal(cfg.bootstrap[2].port, 3010);
    assert_string_equal(cfg.bootstrap[2].node_type, "VP");
}

static void test_env_bootstrap_empty_is_empty_list(void **state)
{
    (void)state;
    assert_int_equal(load_env1("BOOTSTRAP_PEERS="), SWARM_CONFIG_OK);
    assert_int_equal(cfg.n_bootstrap, 0);
}

/* ---- flags ---- */

static void test_flag_port_separate_value(void **state)
{
    (void)state;
    char *argv[] = {"ns-node", "--port", "5000"};
    assert_int_equal(load_args(ARGC(argv), argv), SWARM_CONFIG_OK);
    assert_int_equal(cfg.port, 5000);
}

static void test_flag_port_equals_form(void **state)
{
    (void)state;
    char *argv[] = {"ns-node", "--port=5000"};
    assert_int_equal(load_args(ARGC(argv), argv), SWARM_CONFIG_OK);
    assert_int_equal(cfg.port, 5000);
}

static void test_flags_override_env(void **state)
{
    (void)state;
    char *envp[] = {"PORT=4000", "MAX_PEERS=3", "LOG_LEVEL=error", NULL};
    char *argv[] = {"ns-node", "--port", "5000", "--max-peers=12", "--tls", "on"};
    ns_defaults();
    assert_int_equal(swarm_config_load(&cfg, envp, ARGC(argv), argv, err, sizeof err, NULL),
                     SWARM_CONFIG_OK);
    assert_int_equal(cfg.port, 5000);
    assert_int_equal(cfg.max_peers, 12);
    assert_true(cfg.tls);
    assert_int_equal(cfg.log_level, SWARM_LOG_ERROR); /* env value kept: no flag for it */
    assert_string_equal(cfg.data_dir, "data/ns-5000");
}

static void test_flag_bootstrap_replaces_env_list(void **state)
{
    (void)state;
    char *envp[] = {"BOOTSTRAP_PEERS=a:1,b:2,c:3", NULL};
    char *argv[] = {"ns-node", "--bootstrap-peers=d:4:GW"};
    ns_defaults();
    assert_int_equal(swarm_config_load(&cfg, envp, ARGC(argv), argv, err, sizeof err, NULL),
                     SWARM_CONFIG_OK);
    assert_int_equal(cfg.n_bootstrap, 1);
    assert_string_equal(cfg.bootstrap[0].host, "d");
    assert_int_equal(cfg.bootstrap[0].port, 4);
    assert_string_equal(cfg.bootstrap[0].node_type, "GW");
}

static void test_help_lists_settings(void **state)
{
    (void)state;
    FILE *out = tmpfile();
    assert_non_null(out);
    char *argv[] = {"ns-node", "--help"};
    ns_defaults();
    assert_int_equal(swarm_config_load(&cfg, NULL, ARGC(argv), argv, err, sizeof err, out),
                     SWARM_CONFIG_HELP);
    char text[4096];
    rewind(out);
    size_t n = fread(text, 1, sizeof text - 1, out);
    text[n] = 0;
    fclose(out);
    assert_non_null(strstr(text, "PORT"));
    assert_non_null(strstr(text, "--port"));
    assert_non_null(strstr(text, "BOOTSTRAP_PEERS"));
    assert_non_null(strstr(text, "3009"));
}

static void test_help_without_output_stream(void **state)
{
    (void)state;
    char *argv[] = {"ns-node", "-h"};
    assert_int_equal(load_args(ARGC(argv), argv), SWARM_CONFIG_HELP);
}

/* ---- bad values: each names the setting and quotes the token ---- */

static void test_bad_ports(void **state)
{
    (void)state;
    static const char *const bad[] = {"0", "65536", "abc", "-1", "80x", "", " 80", "+80"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        expect_env_error("PORT", bad[i], bad[i]);
}

static void test_bad_flag_port_names_flag(void **state)
{
    (void)state;
    char *argv[] = {"ns-node", "--port", "abc"};
    assert_int_equal(load_args(ARGC(argv), argv), SWARM_CONFIG_ERROR);
    expect_error_mentions("--port", "abc");

    char *argv2[] = {"ns-node", "--port="};
    assert_int_equal(load_args(ARGC(argv2), argv2), SWARM_CONFIG_ERROR);
    expect_error_mentions("--port", "");
}

static void test_bad_bootstrap_peers(void **state)
{
    (void)state;
    static const struct {
        const char *value, *token;
    } cases[] = {
        {":3009:NS", ":3009:NS"},
        {"localhost:0", "localhost:0"},
        {"localhost:99999", "localhost:99999"},
        {"localhost", "localhost"},
        {"localhost:3009:", "localhost:3009:"},
        {"a:1,,b:2", "a:1,,b:2"},
        {"a:1:N S", "a:1:N S"},
        {"a:1,garbage", "garbage"},
        {"a:1,", "a:1,"},
        {"[::1]3009", "[::1]3009"},
        {"[]:3009", "[]:3009"},
        {"bad host:1", "bad host:1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        expect_env_error("BOOTSTRAP_PEERS", cases[i].value, cases[i].token);
}

static void test_bad_max_peers(void **state)
{
    (void)state;
    expect_env_error("MAX_PEERS", "0", "0");
    expect_env_error("MAX_PEERS", "x", "x");
    expect_env_error("MAX_PEERS", "10001", "10001");
    expect_env_error("MAX_PEERS", "-5", "-5");
}

static void test_bad_other_settings(void **state)
{
    (void)state;
    expect_env_error("NODE_ID", "has space", "has space");
    expect_env_error("LOG_LEVEL", "loud", "loud");
    expect_env_error("P2P_ENABLE_TLS", "maybe", "maybe");
    expect_env_error("DATA_DIR", "", "");
    expect_env_error("BIND_HOST", "not a host", "not a host");
    expect_env_error("MAX_BODY_BYTES", "1023", "1023");
}

static void test_unknown_flag(void **state)
{
    (void)state;
    char *argv[] = {"ns-node", "--nope"};
    assert_int_equal(load_args(ARGC(argv), argv), SWARM_CONFIG_ERROR);
    assert_non_null(strstr(err, "'--nope'"));

    char *argv2[] = {"ns-node", "stray"};
    assert_int_equal(load_args(ARGC(argv2), argv2), SWARM_CONFIG_ERROR);
    assert_non_null(strstr(err, "'stray'"));
}

static void test_flag_missing_value(void **state)
{
    (void)state;
    char *argv[] = {"ns-node", "--port"};
    assert_int_equal(load_args(ARGC(argv), argv), SWARM_CONFIG_ERROR);
    assert_non_null(strstr(err, "--port"));
    assert_non_null(strstr(err, "missing value"));
    assert_int_equal(cfg.port, 3009);
}

/* ---- swarm_bootstrap_parse directly ---- */

static void test_bootstrap_parse_max_entries(void **state)
{
    (void)state;
    swarm_bootstrap_entry e[2];
    size_t n = 99;
    assert_int_equal(swarm_bootstrap_parse("a:1,b:2", e, 2, &n, err, sizeof err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(swarm_bootstrap_parse("a:1,b:2,c:3", e, 2, &n, err, sizeof err), -1);
    assert_non_null(strstr(err, "more than 2"));
}

static void test_bootstrap_parse_whitespace_only(void **state)
{
    (void)state;
    swarm_bootstrap_entry e[1];
    size_t n = 99;
    assert_int_equal(swarm_bootstrap_parse("  \t ", e, 1, &n, err, sizeof err), 0);
    assert_int_equal(n, 0);
}

/* ---- validators ---- */

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = 0;
    return s;
}

static void test_valid_type(void **state)
{
    (void)state;
    char *t32 = repeat('T', 32), *t33 = repeat('T', 33);
    assert_true(swarm_valid_type("NS"));
    assert_true(swarm_valid_type("a-b_c.9"));
    assert_true(swarm_valid_type(t32));
    assert_false(swarm_valid_type(t33));
    assert_false(swarm_valid_type(""));
    assert_false(swarm_valid_type(NULL));
    assert_false(swarm_valid_type("N S"));
    assert_false(swarm_valid_type("a:b"));
    assert_false(swarm_valid_type("a/b"));
    free(t32);
    free(t33);
}

static void test_valid_node_id(void **state)
{
    (void)state;
    char *i64 = repeat('n', 64), *i65 = repeat('n', 65);
    assert_true(swarm_valid_node_id("ns-1"));
    assert_true(swarm_valid_node_id("host:3009"));
    assert_true(swarm_valid_node_id("a_b.c-d"));
    assert_true(swarm_valid_node_id(i64));
    assert_false(swarm_valid_node_id(i65));
    assert_false(swarm_valid_node_id(""));
    assert_false(swarm_valid_node_id(NULL));
    assert_false(swarm_valid_node_id("has space"));
    assert_false(swarm_valid_node_id("a/b"));
    free(i64);
    free(i65);
}

static void test_valid_host(void **state)
{
    (void)state;
    char *h255 = repeat('h', 255), *h256 = repeat('h', 256);
    assert_true(swarm_valid_host("localhost"));
    assert_true(swarm_valid_host("10.0.0.1"));
    assert_true(swarm_valid_host("node-1.example.com"));
    assert_true(swarm_valid_host("::1"));
    assert_true(swarm_valid_host("fe80::a:1"));
    assert_true(swarm_valid_host("::ffff:10.0.0.1"));
    assert_true(swarm_valid_host(h255));
    assert_false(swarm_valid_host(h256));
    assert_false(swarm_valid_host(""));
    assert_false(swarm_valid_host(NULL));
    assert_false(swarm_valid_host("-lead"));
    assert_false(swarm_valid_host(".lead"));
    assert_false(swarm_valid_host("a b"));
    assert_false(swarm_valid_host("a/b"));
    assert_false(swarm_valid_host("[::1]"));
    assert_false(swarm_valid_host("::g"));
    free(h255);
    free(h256);
}

static void test_parse_port(void **state)
{
    (void)state;
    uint16_t p = 7;
    assert_int_equal(swarm_parse_port("1", &p), 0);
    assert_int_equal(p, 1);
    assert_int_equal(swarm_parse_port("65535", &p), 0);
    assert_int_equal(p, 65535);
    assert_int_equal(swarm_parse_port("3009", &p), 0);
    assert_int_equal(p, 3009);

    static const char *const bad[] = {"0", "65536", "99999", "", "-1", "+1", " 1", "1 ",
                                      "1.0", "0x10", "100000", "abc"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        p = 7;
        if (swarm_parse_port(bad[i], &p) != -1)
            fail_msg("port '%s' should be rejected", bad[i]);
        assert_int_equal(p, 7); /* untouched on failure */
    }
    assert_int_equal(swarm_parse_port(NULL, &p), -1);
}

/* The protocol's intervals, limits and reputation knobs: named defaults, all settable. */
static void test_protocol_settings(void **state)
{
    (void)state;
    ns_defaults();
    assert_int_equal(cfg.pex_interval_ms, 30000);
    assert_int_equal(cfg.ping_interval_ms, 30000);
    assert_int_equal(cfg.max_failures, 5);
    assert_int_equal(cfg.inactive_ms, 3600000);
    assert_int_equal(cfg.seen_cache_size, 1000);
    assert_int_equal(cfg.seen_ttl_ms, 300000);
    assert_int_equal(cfg.max_hops, 10);
    assert_true(cfg.reputation.ban_threshold == 20 && cfg.reputation.decay_per_hour == 0.1);
    char *envp[] = {"PEX_INTERVAL_MS=200", "PING_INTERVAL_MS=250", "MAX_FAILURES=3", "PEER_INACTIVE_MS=60000",
                    "SEEN_CACHE_SIZE=50", "SEEN_CACHE_TTL_MS=1000", "MAX_HOPS=4", "SPAM_WINDOW_MS=500",
                    "SPAM_MAX_MESSAGES=7", "SEND_QUEUE_MAX=9", "REPUTATION_BAN_THRESHOLD=30",
                    "REPUTATION_BAN_MS=5000", "REPUTATION_DECAY_PER_HOUR=2.5",
                    "REPUTATION_WEIGHTS=invalidMessage=-20, peerExchange=0", NULL};
    char *argv[] = {"ns-node", "--seen-cache-size=60", NULL};
    assert_int_equal(swarm_config_load(&cfg, envp, 2, argv, err, sizeof err, NULL), SWARM_CONFIG_OK);
    assert_int_equal(cfg.pex_interval_ms, 200);
    assert_int_equal(cfg.ping_interval_ms, 250);
    assert_int_equal(cfg.max_failures, 3);
    assert_int_equal(cfg.inactive_ms, 60000);
    assert_int_equal(cfg.seen_cache_size, 60); /* the flag wins */
    assert_int_equal(cfg.seen_ttl_ms, 1000);
    assert_int_equal(cfg.max_hops, 4);
    assert_int_equal(cfg.spam_window_ms, 500);
    assert_int_equal(cfg.spam_max_messages, 7);
    assert_int_equal(cfg.send_queue_max, 9);
    assert_true(cfg.reputation.ban_threshold == 30);
    assert_int_equal(cfg.reputation.ban_ms, 5000);
    assert_true(cfg.reputation.decay_per_hour == 2.5);
    assert_true(cfg.reputation.weights[SWARM_REP_INVALID_MESSAGE] == -20);
    assert_true(cfg.reputation.weights[SWARM_REP_PEER_EXCHANGE] == 0);
    assert_true(cfg.reputation.weights[SWARM_REP_SPAM_DETECTED] == -10); /* untouched */

    expect_env_error("PEX_INTERVAL_MS", "10", "10");
    expect_env_error("MAX_HOPS", "-1", "-1");
    expect_env_error("SEEN_CACHE_SIZE", "0", "0");
    expect_env_error("REPUTATION_BAN_THRESHOLD", "101", "101");
    expect_env_error("REPUTATION_DECAY_PER_HOUR", "fast", "fast");
    expect_env_error("REPUTATION_WEIGHTS", "bogus=1", "bogus=1");
    expect_env_error("REPUTATION_WEIGHTS", "invalidMessage=x", "invalidMessage=x");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_default_data_dir_uses_lowercase_type_and_port),
        cmocka_unit_test(test_default_data_dir_follows_configured_port),
        cmocka_unit_test(test_env_port),
        cmocka_unit_test(test_env_ignores_similar_names),
        cmocka_unit_test(test_env_many_settings),
        cmocka_unit_test(test_env_log_level_any_case),
        cmocka_unit_test(test_env_tls_booleans),
        cmocka_unit_test(test_env_bootstrap_peers),
        cmocka_unit_test(test_env_bootstrap_empty_is_empty_list),
        cmocka_unit_test(test_flag_port_separate_value),
        cmocka_unit_test(test_flag_port_equals_form),
        cmocka_unit_test(test_flags_override_env),
        cmocka_unit_test(test_flag_bootstrap_replaces_env_list),
        cmocka_unit_test(test_help_lists_settings),
        cmocka_unit_test(test_help_without_output_stream),
        cmocka_unit_test(test_bad_ports),
        cmocka_unit_test(test_bad_flag_port_names_flag),
        cmocka_unit_test(test_bad_bootstrap_peers),
        cmocka_unit_test(test_bad_max_peers),
        cmocka_unit_test(test_bad_other_settings),
        cmocka_unit_test(test_unknown_flag),
        cmocka_unit_test(test_flag_missing_value),
        cmocka_unit_test(test_bootstrap_parse_max_entries),
        cmocka_unit_test(test_bootstrap_parse_whitespace_only),
        cmocka_unit_test(test_valid_type),
        cmocka_unit_test(test_valid_node_id),
        cmocka_unit_test(test_valid_host),
        cmocka_unit_test(test_parse_port),
        cmocka_unit_test(test_protocol_settings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
