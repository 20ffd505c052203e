/*
 * cli_users.c - `strait users add|list|delete`: the brokers' SASL/SCRAM
 * users through DescribeUserScramCredentials and AlterUserScramCredentials,
 * with strait's own Kafka client (kafka_client/: librdkafka 2.0 has no admin
 * call for these APIs). The connection takes a --command-config of client
 * properties (client_properties.h), as `strait acls` does.
 *
 *   add NAME --mechanism M --password-file F [--iterations N]
 *       a fresh salt, SaltedPassword computed here; the password is read from
 *       the first line of F and never sent
 *   list [--user NAME]... [--json]   user, mechanism, iterations
 *   delete NAME --mechanism M
 *
 * Exit status: 0 done, 1 the broker refused or could not be reached (its
 * error name and message are printed), 2 bad command line, command config
 * or password file (nothing was sent).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "failover/cli.h"
#include "failover/cli_common.h"
#include "failover/client_properties.h"
#include "kafka_client/kafka_client.h"
#include "kafka_client/scram_users.h"
#include "security/scram_store.h"

/* Longest password read from --password-file, bytes. */
#define USERS_PASSWORD_BYTES_MAX 1024
/* Most --user selectors of one list. */
#define USERS_SELECTED_MAX 256

enum users_verb { USERS_ADD, USERS_LIST, USERS_DELETE };

typedef struct users_args {
    enum users_verb verb;
    const char *user;              /* add, delete */
    const char *mechanism_text;
    int mechanism;                 /* scram_mechanism, -1 = not given */
    const char *password_file;
    const char *iterations_text;
    int32_t iterations;
    const char *bootstrap;
    const char *command_config;
    const char *selected[USERS_SELECTED_MAX]; /* list --user */
    int selected_count;
    bool json;
} users_args;

static const char *verb_name(enum users_verb verb)
{
    return verb == USERS_ADD ? "add" : verb == USERS_LIST ? "list" : "delete";
}

static void usage(FILE *out)
{
    fputs("usage: strait users add|list|delete [options]\n"
          "\n"
          "  add NAME --mechanism SCRAM-SHA-256|SCRAM-SHA-512 --password-file FILE\n"
          "           [--iterations N]\n"
          "          create or replace NAME's credential for the mechanism: a fresh\n"
          "          random salt and the salted password (PBKDF2, N iterations,\n"
          "          default 4096, at most 16384) are computed here; the password\n"
          "          (the first line of FILE, which must not be readable by others)\n"
          "          never leaves this process\n"
          "  list [--user NAME]... [--json]\n"
          "          every user (or those named): user, mechanism, iterations\n"
          "  delete NAME --mechanism SCRAM-SHA-256|SCRAM-SHA-512\n"
          "          remove NAME's credential for the mechanism\n"
          "\n"
          "connection:\n"
          "  --bootstrap HOST:PORT[,HOST:PORT]  a broker (also --bootstrap-server); required\n"
          "  --command-config FILE       client properties in librdkafka's names:\n"
          "                              security.protocol, ssl.ca.location,\n"
          "                              ssl.certificate.location, ssl.key.location,\n"
          "                              sasl.mechanism (PLAIN, SCRAM-SHA-256,\n"
          "                              SCRAM-SHA-512), sasl.username, sasl.password\n"
          "\n"
          "Adding and deleting need ALTER on the cluster, listing DESCRIBE (with an\n"
          "authorizer); a user logs in with SCRAM, and with PLAIN where the listener\n"
          "enables it, with the same password.\n"
          "exit: 0 done, 1 the broker refused or was not reached (its error is printed),\n"
          "2 bad command line, command config or password file (nothing was sent).\n",
          out);
}

__attribute__((format(printf, 2, 3)))
static int bad_flag(const users_args *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "strait users %s: ", verb_name(a->verb));
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (strait users --help)\n", stderr);
    return CLI_EXIT_USAGE;
}


/* Sets *slot to v unless it is already set. */
static int once(const users_args *a, const char **slot, const char *v, const char *flag)
{
    if (*slot)
        return bad_flag(a, "%s given twice", flag);
    *slot = v;
    return 0;
}

static int parse_option(users_args *a, int argc, char **argv, int *i)
{
    bool missing = false;
    const char *v, *arg = argv[*i];
    if (!strcmp(arg, "--json") && a->verb == USERS_LIST)
        return a->json = true, 0;
    if ((v = cli_flag_value(argc, argv, i, "--bootstrap-server", &missing)) ||
        (!missing && (v = cli_flag_value(argc, argv, i, "--bootstrap", &missing))))
        return once(a, &a->bootstrap, v, "--bootstrap");
    if (!missing && (v = cli_flag_value(argc, argv, i, "--command-config", &missing)))
        return once(a, &a->command_config, v, "--command-config");
    if (!missing && (v = cli_flag_value(argc, argv, i, "--mechanism", &missing))) {
        if (a->verb == USERS_LIST)
            return bad_flag(a, "--mechanism is for add and delete (list shows every mechanism)");
        return once(a, &a->mechanism_text, v, "--mechanism");
    }
    if (!missing && (v = cli_flag_value(argc, argv, i, "--password-file", &missing))) {
        if (a->verb != USERS_ADD)
            return bad_flag(a, "--password-file is for add");
        return once(a, &a->password_file, v, "--password-file");
    }
    if (!missing && (v = cli_flag_value(argc, argv, i, "--iterations", &missing))) {
        if (a->verb != USERS_ADD)
            return bad_flag(a, "--iterations is for add");
        return once(a, &a->iterations_text, v, "--iterations");
    }
    if (!missing && (v = cli_flag_value(argc, argv, i, "--user", &missing))) {
        if (a->verb != USERS_LIST)
            return bad_flag(a, "--user is for list (add and delete take the user as NAME)");
        if (a->selected_count == USERS_SELECTED_MAX)
            return bad_flag(a, "more than %d --user", USERS_SELECTED_MAX);
        if (v[0] == '\0')
            return bad_flag(a, "--user needs a name");
        a->selected[a->selected_count++] = v;
        return 0;
    }
    if (missing)
        return bad_flag(a, "%s needs a value", arg);
    if (arg[0] == '-')
        return bad_flag(a, "unknown option '%s'", arg);
    if (a->verb == USERS_LIST)
        return bad_flag(a, "unexpected argument '%s' (list selects users with --user NAME)", arg);
    if (a->user)
        return bad_flag(a, "one user at a time: '%s' and '%s'", a->user, arg);
    a->user = arg;
    return 0;
}

/* Checks what the options say together. */
static int check_args(users_args *a)
{
    if (a->verb != USERS_LIST) {
        if (!a->user)
            return bad_flag(a, "name the user: strait users %s NAME ...", verb_name(a->verb));
        size_t len = strlen(a->user);
        if (len == 0 || len > SCRAM_USER_MAX)
            return bad_flag(a, "a user name is 1 to %d bytes", SCRAM_USER_MAX);
        if (!a->mechanism_text)
            return bad_flag(a, "--mechanism SCRAM-SHA-256 or SCRAM-SHA-512 is required");
        a->mechanism = strcasecmp(a->mechanism_text, "SCRAM-SHA-256") == 0   ? SCRAM_SHA_256
                       : strcasecmp(a->mechanism_text, "SCRAM-SHA-512") == 0 ? SCRAM_SHA_512
                                                                             : -1;
        if (a->mechanism < 0)
            return bad_flag(a, "--mechanism '%s': expected SCRAM-SHA-256 or SCRAM-SHA-512 (a "
                            "user stored for SCRAM also logs in with PLAIN)", a->mechanism_text);
    }
    if (a->verb == USERS_ADD && !a->password_file)
        return bad_flag(a, "--password-file FILE is required (the password is its first line)");
    a->iterations = SCRAM_ITERATIONS_MIN;
    if (a->iterations_text) {
        char *end = NULL;
        errno = 0;
        long n = strtol(a->iterations_text, &end, 10);
        if (errno || !end || *end || end == a->iterations_text || n < SCRAM_ITERATIONS_MIN ||
            n > SCRAM_ITERATIONS_MAX)
            return bad_flag(a, "--iterations '%s': expected a number from %d to %d (Kafka's "
                            "bounds)", a->iterations_text, SCRAM_ITERATIONS_MIN,
                            SCRAM_ITERATIONS_MAX);
        a->iterations = (int32_t)n;
    }
    if (!a->bootstrap)
        return bad_flag(a, "--bootstrap HOST:PORT is required");
    return 0;
}

/* The password: the first line of path, without its line end. Refused: a
 * missing or unreadable file, one that others may read, an empty first
 * line, a NUL byte, more than USERS_PASSWORD_BYTES_MAX bytes. */
static int read_password(const users_args *a, char *out, size_t outlen, size_t *len)
{
    const char *path = a->password_file;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return bad_flag(a, "--password-file %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int saved = errno;
        close(fd);
        return bad_flag(a, "--password-file %s: %s", path, strerror(saved));
    }
    if (S_ISREG(st.st_mode) && (st.st_mode & S_IROTH)) {
        close(fd);
        return bad_flag(a, "--password-file %s may be read by every user of this host (mode "
                        "%03o); chmod o-r it", path, (unsigned)(st.st_mode & 0777));
    }
    size_t used = 0;
    int rc = 0;
    while (used < outlen) {
        ssize_t n = read(fd, out + used, outlen - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = bad_flag(a, "--password-file %s: %s", path, strerror(errno));
        if (n <= 0)
            break;
        used += (size_t)n;
        if (memchr(out, '\n', used))
            break;
    }
    close(fd);
    char *newline = memchr(out, '\n', used);
    size_t line = newline ? (size_t)(newline - out) : used;
    if (rc == 0 && line >= outlen)
        rc = bad_flag(a, "--password-file %s: the first line is longer than %d bytes", path,
                      USERS_PASSWORD_BYTES_MAX);
    if (rc == 0 && line > 0 && out[line - 1] == '\r')
        line--;
    if (rc == 0 && line == 0)
        rc = bad_flag(a, "--password-file %s: the first line is empty; it must hold the "
                      "password", path);
    if (rc == 0 && memchr(out, '\0', line))
        rc = bad_flag(a, "--password-file %s: the password holds a NUL byte", path);
    if (rc != 0) {
        memset(out, 0, outlen);
        return rc;
    }
    memset(out + line, 0, outlen - line);
    *len = line;
    return 0;
}

/* The connection settings of the command config (none: PLAINTEXT). */
static int load_settings(const users_args *a, client_properties *props,
                         kafka_client_settings *s)
{
    char err[1024];
    memset(props, 0, sizeof *props);
    if (a->command_config && client_properties_load(a->command_config, props, err, sizeof err)) {
        fprintf(stderr, "strait users %s: %s\n", verb_name(a->verb), err);
        return CLI_EXIT_USAGE;
    }
    const char *protocol = props->security_protocol[0] ? props->security_protocol : "plaintext";
    bool sasl = !strncmp(protocol, "sasl_", 5);
    if (sasl && !strcmp(props->sasl_mechanism, "GSSAPI"))
        return bad_flag(a, "command config %s: sasl.mechanism GSSAPI: strait users logs in with "
                        "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", a->command_config);
    *s = (kafka_client_settings){
        .bootstrap = a->bootstrap,
        .client_id = "strait-users",
        .tls = strstr(protocol, "ssl") != NULL,
        .ca_location = props->ssl_ca_location,
        .certificate_location = props->ssl_certificate_location,
        .key_location = props->ssl_key_location,
        .sasl_mechanism = sasl ? props->sasl_mechanism : NULL,
        .sasl_username = props->sasl_username,
        .sasl_password = props->sasl_password,
    };
    return 0;
}

/* Prints a broker's error: its Kafka name and message. */
static void print_error(const users_args *a, const char *what, int16_t code, const char *message)
{
    fprintf(stderr, "strait users %s: %s: %s", verb_name(a->verb), what,
            rd_kafka_err2name((rd_kafka_resp_err_t)code));
    if (message && message[0])
        fprintf(stderr, ": %s\n", message);
    else
        fprintf(stderr, " (%s)\n", rd_kafka_err2str((rd_kafka_resp_err_t)code));
}

static int run_alter(const users_args *a, kafka_client *c, const char *password,
                     size_t password_len)
{
    kafka_user_change change = {
        .user = a->user, .mechanism = (scram_mechanism)a->mechanism,
        .deletion = a->verb == USERS_DELETE, .iterations = a->iterations,
        .password = password, .password_len = password_len,
    };
    kafka_users_alteration answer;
    char err[1024];
    enum kafka_client_failure f = kafka_users_alter(c, &change, 1, &answer, err, sizeof err);
    if (f != KAFKA_CLIENT_OK) {
        fprintf(stderr, "strait users %s: %s\n", verb_name(a->verb), err);
        return f == KAFKA_CLIENT_CONFIG ? CLI_EXIT_USAGE : CLI_EXIT_FAILED;
    }
    const char *mechanism = scram_mechanism_name((scram_mechanism)a->mechanism);
    int rc = CLI_EXIT_OK;
    if (answer.count != 1) {
        fprintf(stderr, "strait users %s: the broker answered %zu results for one change\n",
                verb_name(a->verb), answer.count);
        rc = CLI_EXIT_FAILED;
    }
    for (size_t i = 0; i < answer.count; i++) {
        const kafka_user_result *r = &answer.results[i];
        char what[SCRAM_USER_MAX + 64];
        snprintf(what, sizeof what, "%s %s", r->user, mechanism);
        if (r->error_code != 0) {
            print_error(a, what, r->error_code, r->error_message);
            rc = CLI_EXIT_FAILED;
        } else if (a->verb == USERS_ADD) {
            printf("added: %s %s iterations=%d\n", r->user, mechanism, (int)a->iterations);
        } else {
            printf("deleted: %s %s\n", r->user, mechanism);
        }
    }
    kafka_users_alteration_free(&answer);
    return rc;
}

static void print_list(const users_args *a, const kafka_users_description *d)
{
    size_t width = strlen("USER");
    for (size_t i = 0; i < d->count; i++)
        if (d->users[i].error_code == 0 && strlen(d->users[i].user) > width)
            width = strlen(d->users[i].user);
    if (a->json) {
        fputs("{\"users\":[", stdout);
        bool first = true;
        for (size_t i = 0; i < d->count; i++) {
            const kafka_user_description *u = &d->users[i];
            for (int k = 0; u->error_code == 0 && k < u->credential_count; k++) {
                fputs(first ? "{\"user\":" : ",{\"user\":", stdout);
                first = false;
                cli_json_string(u->user);
                printf(",\"mechanism\":\"%s\",\"iterations\":%d}",
                       kafka_users_mechanism_name(u->credentials[k].mechanism_code),
                       (int)u->credentials[k].iterations);
            }
        }
        fputs("]}\n", stdout);
        return;
    }
    size_t shown = 0;
    for (size_t i = 0; i < d->count; i++)
        shown += d->users[i].error_code == 0 ? (size_t)d->users[i].credential_count : 0;
    if (shown == 0) {
        printf("no users\n");
        return;
    }
    printf("%-*s  %-13s  %s\n", (int)width, "USER", "MECHANISM", "ITERATIONS");
    for (size_t i = 0; i < d->count; i++) {
        const kafka_user_description *u = &d->users[i];
        for (int k = 0; u->error_code == 0 && k < u->credential_count; k++)
            printf("%-*s  %-13s  %d\n", (int)width, u->user,
                   kafka_users_mechanism_name(u->credentials[k].mechanism_code),
                   (int)u->credentials[k].iterations);
    }
}

static int run_list(const users_args *a, kafka_client *c)
{
    kafka_users_description d;
    char err[1024];
    enum kafka_client_failure f =
        kafka_users_describe(c, a->selected, a->selected_count, &d, err, sizeof err);
    if (f != KAFKA_CLIENT_OK) {
        fprintf(stderr, "strait users list: %s\n", err);
        return f == KAFKA_CLIENT_CONFIG ? CLI_EXIT_USAGE : CLI_EXIT_FAILED;
    }
    int rc = CLI_EXIT_OK;
    if (d.error_code != 0) {
        print_error(a, "DescribeUserScramCredentials", d.error_code, d.error_message);
        rc = CLI_EXIT_FAILED;
    } else {
        for (size_t i = 0; i < d.count; i++) {
            if (d.users[i].error_code != 0) {
                print_error(a, d.users[i].user, d.users[i].error_code, d.users[i].error_message);
                rc = CLI_EXIT_FAILED;
            }
        }
        print_list(a, &d);
    }
    kafka_users_description_free(&d);
    return rc;
}

static int run(users_args *a, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        int rc = parse_option(a, argc, argv, &i);
        if (rc != 0)
            return rc;
    }
    int rc = check_args(a);
    char password[USERS_PASSWORD_BYTES_MAX + 1];
    size_t password_len = 0;
    if (rc == 0 && a->verb == USERS_ADD)
        rc = read_password(a, password, sizeof password, &password_len);
    client_properties *props = calloc(1, sizeof *props);
    kafka_client_settings settings;
    if (rc == 0 && !props) {
        fputs("strait users: out of memory\n", stderr);
        rc = CLI_EXIT_FAILED;
    }
    if (rc == 0)
        rc = load_settings(a, props, &settings);
    kafka_client *c = NULL;
    char err[1024];
    if (rc == 0) {
        enum kafka_client_failure f = kafka_client_open(&settings, &c, err, sizeof err);
        if (f != KAFKA_CLIENT_OK) {
            fprintf(stderr, "strait users %s: %s\n", verb_name(a->verb), err);
            rc = f == KAFKA_CLIENT_CONFIG ? CLI_EXIT_USAGE : CLI_EXIT_FAILED;
        }
    }
    if (props)
        client_properties_clear(props);
    free(props);
    if (rc == 0)
        rc = a->verb == USERS_LIST ? run_list(a, c) : run_alter(a, c, password, password_len);
    kafka_client_close(c);
    memset(password, 0, sizeof password);
    return rc;
}

int failover_cli_users(int argc, char **argv)
{
    if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h") ||
        !strcmp(argv[0], "help")) {
        usage(argc < 1 ? stderr : stdout);
        return argc < 1 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    users_args *a = calloc(1, sizeof *a);
    if (!a) {
        fputs("strait users: out of memory\n", stderr);
        return CLI_EXIT_FAILED;
    }
    a->mechanism = -1;
    int rc = CLI_EXIT_OK;
    if (!strcmp(argv[0], "add")) {
        a->verb = USERS_ADD;
    } else if (!strcmp(argv[0], "list")) {
        a->verb = USERS_LIST;
    } else if (!strcmp(argv[0], "delete")) {
        a->verb = USERS_DELETE;
    } else {
        fprintf(stderr, "strait users: unknown verb '%s': expected add, list or delete "
                "(strait users --help)\n", argv[0]);
        rc = CLI_EXIT_USAGE;
    }
    for (int i = 1; rc == 0 && i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            free(a);
            return CLI_EXIT_OK;
        }
    }
    /* a broker that closes the connection must not kill the CLI mid-write */
    signal(SIGPIPE, SIG_IGN);
    if (rc == 0)
        rc = run(a, argc - 1, argv + 1);
    free(a);
    return rc;
}
