/* libFuzzer target: the envelope and PEER_LIST decoders, and encode/decode round trips. Anything
 * a peer can send reaches these first. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "swarm/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[160];
    swarm_envelope env;
    if (swarm_envelope_decode((const char *)data, size, &env, err, sizeof err) != 0)
        return 0;
    swarm_peer_list pl;
    if (swarm_peer_list_decode(env.payload, &pl, err, sizeof err) == 0) {
        cJSON *again = swarm_peer_list_encode(&pl);
        swarm_peer_list back;
        if (!again || swarm_peer_list_decode(again, &back, err, sizeof err) != 0 || back.n != pl.n)
            abort(); /* what we encode we must be able to decode */
        swarm_peer_list_clear(&back);
        cJSON_Delete(again);
        swarm_peer_list_clear(&pl);
    }
    swarm_envelope_set_hops(&env, env.hops + 1);
    size_t len;
    char *text = swarm_envelope_encode(&env, &len);
    swarm_envelope re;
    if (!text || swarm_envelope_decode(text, len, &re, err, sizeof err) != 0 || re.hops != env.hops ||
        strcmp(re.id, env.id) != 0)
        abort();
    swarm_envelope_clear(&re);
    free(text);
    swarm_envelope_clear(&env);
    return 0;
}
