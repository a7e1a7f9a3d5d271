/*
 * test_tls_crypto.c - lib/tls/crypto.c against published values: the
 * TLS 1.3 key schedule and record protection of RFC 8448's traces
 * (section 3, the simple 1-RTT handshake; section 4, the resumption
 * binder and 0-RTT record; section 5, the HelloRetryRequest transcript
 * and P-256 exchange), RFC 5869's HKDF-Extract, and the TLS 1.2 PRF
 * vectors published on the IETF TLS list.  Then the record layer's own
 * rules on both versions and all three ciphers: round trips at every
 * length class, tampering, sequence numbers, padding, overflow; and
 * ECDHE agreement and point validation.
 *
 * The RFC 8448 messages and records below are its hex dumps joined into
 * strings; the intermediate secrets are quoted next to the step they
 * come from.
 */
#include <stdlib.h>

#include "core/err.h"
#include "test.h"
#include "tls/tls_int.h"

/* Hex (spaces allowed) into out; returns the byte count, or 0 when it
 * does not fit or is malformed (the checks on the length then fail). */
static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *s; s++) {
		int v;
		if (*s == ' ' || *s == '\n')
			continue;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else
			return 0;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n == cap)
			return 0;
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	return hi < 0 ? n : 0;
}

/* A decoded value: the bytes and their count, on the stack of the test. */
struct hex {
	uint8_t b[1024];
	size_t n;
};

static void hx(struct hex *h, const char *s)
{
	h->n = unhex(s, h->b, sizeof h->b);
	CHECK(h->n > 0);
}

/* CHECK that len_ bytes at got_ equal the hex string want_. */
#define CHECK_HEX(got_, len_, want_)                                                               \
	do {                                                                                       \
		struct hex w_;                                                                     \
		hx(&w_, want_);                                                                    \
		CHECK_EQ((len_), w_.n);                                                            \
		CHECK_MEM((got_), w_.b, w_.n);                                                     \
	} while (0)

static void sha256(const void *data, size_t len, uint8_t out[32])
{
	br_sha256_context c;
	br_sha256_init(&c);
	br_sha256_update(&c, data, len);
	br_sha256_out(&c, out);
}

/* ---- RFC 8448's messages and records (sections 3, 4 and 5) ------------------ */

static const char S3_CH_REC[] =
    "16030100c4010000c00303cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece700"
    "0006130113031302010000910000000b0009000006736572766572ff01000100000a00140012001d00170018"
    "00190100010101020103010400230000003300260024001d002099381de560e4bd43d23d8e435a7dbafeb3c0"
    "6e51c13cae4d5413691e529aaf2c002b0003020304000d0020001e0403050306030203080408050806040105"
    "01060102010402050206020202002d00020101001c00024001";

static const char S3_SH_REC[] =
    "160303005a020000560303a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e2692800"
    "130100002e00330024001d0020c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f"
    "0f002b00020304";

static const char S3_SERVER_FLIGHT_REC[] =
    "17030302a2d1ff334a56f5bff6594a07cc87b580233f500f45e489e7f33af35edf7869fcf40aa40aa2b8ea73"
    "f848a7ca07612ef9f945cb960b4068905123ea78b111b429ba9191cd05d2a389280f526134aadc7fc78c4b72"
    "9df828b5ecf7b13bd9aefb0e57f271585b8ea9bb355c7c79020716cfb9b1183ef3ab20e37d57a6b9d7477609"
    "aee6e122a4cf51427325250c7d0e509289444c9b3a648f1d71035d2ed65b0e3cdd0cbae8bf2d0b227812cbb3"
    "60987255cc744110c453baa4fcd610928d809810e4b7ed1a8fd991f06aa6248204797e36a6a73b70a2559c09"
    "ead686945ba246ab66e5edd8044b4c6de3fcf2a89441ac66272fd8fb330ef8190579b3684596c960bd596eea"
    "520a56a8d650f563aad27409960dca63d3e688611ea5e22f4415cf9538d51a200c27034272968a264ed6540c"
    "84838d89f72c24461aad6d26f59ecaba9acbbb317b66d902f4f292a36ac1b639c637ce343117b65962224531"
    "7b49eeda0c6258f100d7d961ffb138647e92ea330faeea6dfa31c7a84dc3bd7e1b7a6c7178af36879018e3f2"
    "52107f243d243dc7339d5684c8b0378bf30244da8c87c843f5e56eb4c5e8280a2b48052cf93b16499a66db7c"
    "ca71e4599426f7d461e66f99882bd89fc50800becca62d6c74116dbd2972fda1fa80f85df881edbe5a376689"
    "36b335583b599186dc5c6918a396fa48a181d6b6fa4f9d62d513afbb992f2b992f67f8afe67f76913fa388cb"
    "5630c8ca01e0c65d11c66a1e2ac4c85977b7c7a6999bbf10dc35ae69f5515614636c0b9b68c19ed2e31c0b3b"
    "66763038ebba42f3b38edc0399f3a9f23faa63978c317fc9fa66a73f60f0504de93b5b845e275592c12335ee"
    "340bbc4fddd502784016e4b3be7ef04dda49f4b440a30cb5d2af939828fd4ae3794e44f94df5a631ede42c17"
    "19bfdabf0253fe5175be898e750edc53370d2b";

static const char S3_EE[] =
    "080000240022000a00140012001d00170018001901000101010201030104001c0002400100000000";

static const char S3_CERT[] =
    "0b0001b9000001b50001b0308201ac30820115a003020102020102300d06092a864886f70d01010b0500300e"
    "310c300a06035504031303727361301e170d3136303733303031323335395a170d3236303733303031323335"
    "395a300e310c300a0603550403130372736130819f300d06092a864886f70d010101050003818d0030818902"
    "818100b4bb498f8279303d980836399b36c6988c0c68de55e1bdb826d3901a2461eafd2de49a91d015abbc9a"
    "95137ace6c1af19eaa6af98c7ced43120998e187a80ee0ccb0524b1b018c3e0b63264d449a6d38e22a5fda43"
    "0846748030530ef0461c8ca9d9efbfae8ea6d1d03e2bd193eff0ab9a8002c47428a6d35a8d88d79f7f1e3f02"
    "03010001a31a301830090603551d1304023000300b0603551d0f0404030205a0300d06092a864886f70d0101"
    "0b05000381810085aad2a0e5b9276b908c65f73a7267170618a54c5f8a7b337d2df7a594365417f2eae8f8a5"
    "8c8f8172f9319cf36b7fd6c55b80f21a03015156726096fd335e5e67f2dbf102702e608ccae6bec1fc63a42a"
    "99be5c3eb7107c3c54e9b9eb2bd5203b1c3b84e0a8b2f759409ba3eac9d91d402dcc0cc8f8961229ac9187b4"
    "2b4de10000";

static const char S3_CV[] =
    "0f000084080400805a747c5d88fa9bd2e55ab085a61015b7211f824cd484145ab3ff52f1fda8477b0b7abc90"
    "db78e2d33a5c141a078653fa6bef780c5ea248eeaaa785c4f394cab6d30bbe8d4859ee511f602957b15411ac"
    "027671459e46445c9ea58c181e818e95b8c3fb0bf3278409d3be152a3da5043e063dda65cdf5aea20d53dfac"
    "d42f74f3";

static const char S3_SFIN[] =
    "140000209b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718";

static const char S3_CFIN_REC[] =
    "170303003575ec4dc238cce60b298044a71e219c56cc77b0517fe9b93c7a4bfc44d87f38f80338ac98fc46de"
    "b384bd1caeacab6867d726c40546";

static const char S3_NST_REC[] =
    "17030300de3a6b8f90414a97d6959c3487680de5134a2b240e6cffac116e95d41d6af8f6b580dcf3d11d63c7"
    "58db289a015940252f55713e061dc13e078891a38efbcf5753ad8ef170ad3c7353d16d9da773b9ca7f2b9fa1"
    "b6c0d4a3d03f75e09c30ba1e62972ac46f75f7b981be63439b2999ce13064615139891d5e4c5b406f16e3fc1"
    "81a77ca475840025db2f0a77f81b5ab05b94c01346755f69232c86519d86cbeeac87aac347d143f9605d64f6"
    "50db4d023e70e952ca49fe5137121c74bc2697687e248746d6df353005f3bce18696129c8153556b3b6c6779"
    "b37bf15985684f";

static const char S3_TICKET[] =
    "2c035d829359ee5ff7af4ec900000000262a6494dc486d2c8a34cb33fa90bf1b0070ad3c498883c9367c09a2"
    "be785abc55cd226097a3a982117283f82a03a143efd3ff5dd36d64e861be7fd61d2827db279cce145077d454"
    "a3664d4e6da4d29ee03725a6a4dafcd0fc67d2aea70529513e3da2677fa5906c5b3f7d8f92f228bda40dda72"
    "1470f9fbf297b5aea617646fac5c03272e970727c621a79141ef5f7de6505e5bfbc388e93343694093934ae4"
    "d357";

static const char S3_APPDATA[] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b"
    "2c2d2e2f3031";

static const char S3_C_APPDATA_REC[] =
    "1703030043a23f7054b62c94d0affafe8228ba55cbefacea42f914aa66bcab3f2b9819a8a5b46b395bd54a9a"
    "20441e2b62974e1f5a6292a2977014bd1e3deae63aeebb21694915e4";

static const char S3_S_APPDATA_REC[] =
    "17030300432e937e11ef4ac740e538ad36005fc4a46932fc3225d05f82aa1b36e30efaf97d90e6dffc602dcb"
    "501a59a8fcc49c4bf2e5f0a21c0047c2abf332540dd032e167c2955d";

static const char S3_C_CLOSE_REC[] = "1703030013c9872760655666b74d7ff1153efd6db6d0b0e3";

static const char S3_S_CLOSE_REC[] = "1703030013b58fd67166ebf599d24720cfbe7efa7a8864a9";

static const char S4_CH_REC[] =
    "1603010200010001fc03031bc3ceb6bbe39cff938355b5a50adb6db21b7a6af649d7b4bc419d7876487d9500"
    "0006130113031302010001cd0000000b0009000006736572766572ff01000100000a00140012001d00170018"
    "001901000101010201030104003300260024001d0020e4ffb68ac05f8d96c99da26698346c6be16482baddda"
    "fe051a66b4f18d668f0b002a0000002b0003020304000d0020001e0403050306030203080408050806040105"
    "01060102010402050206020202002d00020101001c0002400100150057000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000000000000000000000000000000000000000000000002900dd00b800b22c035d829359ee5f"
    "f7af4ec900000000262a6494dc486d2c8a34cb33fa90bf1b0070ad3c498883c9367c09a2be785abc55cd2260"
    "97a3a982117283f82a03a143efd3ff5dd36d64e861be7fd61d2827db279cce145077d454a3664d4e6da4d29e"
    "e03725a6a4dafcd0fc67d2aea70529513e3da2677fa5906c5b3f7d8f92f228bda40dda721470f9fbf297b5ae"
    "a617646fac5c03272e970727c621a79141ef5f7de6505e5bfbc388e93343694093934ae4d357fad6aacb0021"
    "203add4fb2d8fdf822a0ca3cf7678ef5e88dae990141c5924d57bb6fa31b9e5f9d";

static const char S4_EARLY_DATA[] = "414243444546";

static const char S4_EARLY_DATA_REC[] = "1703030017ab1df420e75c457a7cc5d2844f76d5aee4b4edbf049be0";

static const char S5_CH1_REC[] =
    "16030100b4010000b00303b0b1c5a5aa37c5919f2ed1d5c6fff7fcb7849716945a2b8cee9258a346677b6f00"
    "0006130113031302010000810000000b0009000006736572766572ff01000100000a00080006001d00170018"
    "003300260024001d0020e8e8e3f3b93a25ed97a14a7dcacb8a272c6288e585c6484d05262fcad062ad1f002b"
    "0003020304000d0020001e040305030603020308040805080604010501060102010402050206020202002d00"
    "020101001c00024001";

static const char S5_HRR_REC[] =
    "16030300b0020000ac0303cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c00"
    "1301000084003300020017002c0074007271dcd04bb88bc3189119398a00000000eefafc76c146b823b096f8"
    "aacad365dd0030953f4edf625636e5f21bb2e23fcc654b1b5b40318d10d137abcbb87574e36e8a1f025f7dfa"
    "5d6e50781b5eda4aa15b0c8be778257d16aa3030e9e7841dd9e4c0342267e8ca0caf571fb2b7cff0f934b000"
    "2b00020304";

static const char S5_CH2_REC[] =
    "1603030200010001fc0303b0b1c5a5aa37c5919f2ed1d5c6fff7fcb7849716945a2b8cee9258a346677b6f00"
    "0006130113031302010001cd0000000b0009000006736572766572ff01000100000a00080006001d00170018"
    "0033004700450017004104a6da7392ec591e17abfd535964b99894d13befb221b3def2ebe3830eac8f015181"
    "2677c4d6d2237e85cf01d6910cfb83954e76ba7352830534159897e8065780002b0003020304000d0020001e"
    "040305030603020308040805080604010501060102010402050206020202002c0074007271dcd04bb88bc318"
    "9119398a00000000eefafc76c146b823b096f8aacad365dd0030953f4edf625636e5f21bb2e23fcc654b1b5b"
    "40318d10d137abcbb87574e36e8a1f025f7dfa5d6e50781b5eda4aa15b0c8be778257d16aa3030e9e7841dd9"
    "e4c0342267e8ca0caf571fb2b7cff0f934b0002d00020101001c00024001001500af00000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000";

static const char S5_SH[] =
    "020000770303bb341d847fd789c47c387172dc0c9bf147fccacb5043d86ca4c598d3ff571b9800130100004f"
    "003300450017004104583e054b7a66672ae020ad9d2686fcc85b5ad41a134a0f03ee72b893052bd85b4c8de6"
    "776f5b04ac07d83540eab3e3d9c547bc6528c4317d294686093a6cad7d002b00020304";

static const char S5_SERVER_FLIGHT_REC[] =
    "170303029699bee20baf5b7fc727bfab6223928a381e6d0cf9c4da653f9d2a7b23f7de11cce842d5cf756317"
    "63450ffb8b0cc1d238e658af7a12adc86243114ab14a1da2fae42621ce483fb6242eabfaad52566b02b31d2e"
    "ddedefeb80e66a9900d5f973b40c4fdf74719ecf1b68d7f9c3b6ceb903ca13dd1bb8f8187ae33417e1d15252"
    "2c5822a1a03ad52c838c55953d610222874cce8e1790b229a2aa0b53c8d377ee720182951dc6181dc5d90bd1"
    "f0105ed1e84aa5f75957c6661897079e5ea5007449e3197bdc7c9beeedddeafdd844afa5c315ecfe65e576af"
    "e909812880620ec7048b42d7f5c78d76f299d6d82534bdd8f512febc0ed3814aca470cd8000d3e1cb9962b05"
    "2fbb950df683a52c2ba77ed3713b122937a6e5170964e2ab7969dcd980b3db9b458da7603124d6dc005e4d6e"
    "04b4d0c4baf3275db827dbba0a6db09672171fc057b3851d7e026841e2978fbd2346bbefdd0376bb1108fe9a"
    "cc92189f5650aa5e85d8e8c7b67ac510dba003d3d7e16350bb66d45013efd44c9b607c0d318c4c7d1a1f5cbc"
    "57e20611804e3787d7b4a4b5f08ed8fd70bdaeade02260b12ab842ef690b4a3ee7911e841b374ecd5ebbbc2a"
    "54d047b600336dd7d0c88b4bc10e58ee6cb656de7247fa20d8e91deb84628608cf80615b62e96c1491c7ac37"
    "55eb6901405d3474fe1ac79d106a0cee56c2577fc88480f96cb6b8c681b7b68b53c146093908f350888175bd"
    "fb0b1e31ad61e30ba0adfe6d223aa03c0783b5001a57587c328a9afcfcfb978d1cd4328f7d9d60530e630bef"
    "d96c0c816ee20b0100768ae2a6df51fc68f172740a79af11398ee3be1252491fa9c693479e877f94ab7c5f8c"
    "ad480203e6ab7b87dd71e8a0729113df17f5eee86ce108d1d72007ec1cd13c85a6c149621e77b7d78d805a30"
    "f0be030c315e54";

/* ---- RFC 8448 section 3: simple 1-RTT handshake ---------------------------- */

/* The RFC's X25519 keys (section 3) and what its key schedule starts from. */
#define S3_C_PRIV "49af42ba7f7994852d713ef2784bcbcaa7911de26adc5642cb634540e7ea5005"
#define S3_C_PUB  "99381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529aaf2c"
#define S3_S_PRIV "b1580eeadf6dd589b8ef4f2d5652578cc810e9980191ec8d058308cea216a21e"
#define S3_S_PUB  "c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f"
#define S3_SHARED "8bd4054fb55b9d63fdfbacf9f04b9f0d35e6d63f537563efd46272900f89492d"

static void x25519_key(struct tls_ecdhe *e, const char *priv)
{
	memset(e, 0, sizeof *e);
	e->group = TLS_GROUP_X25519;
	e->priv_len = unhex(priv, e->priv, sizeof e->priv);
	CHECK_EQ(e->priv_len, 32);
}

TEST(rfc8448_x25519_keys_and_shared_secret)
{
	/* X25519(k, 9) is the public key: the base point as the "peer". */
	static const uint8_t base[32] = {9};
	struct tls_ecdhe c, s;
	uint8_t out[48];
	size_t n = 0;

	x25519_key(&c, S3_C_PRIV);
	x25519_key(&s, S3_S_PRIV);
	CHECK_EQ(tls_ecdhe_shared(&c, base, 32, out, &n), ATL_OK);
	CHECK_HEX(out, n, S3_C_PUB);
	CHECK_EQ(tls_ecdhe_shared(&s, base, 32, out, &n), ATL_OK);
	CHECK_HEX(out, n, S3_S_PUB);

	struct hex peer;
	hx(&peer, S3_S_PUB);
	CHECK_EQ(tls_ecdhe_shared(&c, peer.b, peer.n, out, &n), ATL_OK);
	CHECK_HEX(out, n, S3_SHARED);
	hx(&peer, S3_C_PUB);
	CHECK_EQ(tls_ecdhe_shared(&s, peer.b, peer.n, out, &n), ATL_OK);
	CHECK_HEX(out, n, S3_SHARED);
}

/* The section 3 handshake messages, from their records. */
struct s3_msgs {
	struct hex ch, sh, ee, cert, cv, sfin;
};

static void s3_msgs(struct s3_msgs *m)
{
	hx(&m->ch, S3_CH_REC);
	hx(&m->sh, S3_SH_REC);
	hx(&m->ee, S3_EE);
	hx(&m->cert, S3_CERT);
	hx(&m->cv, S3_CV);
	hx(&m->sfin, S3_SFIN);
	/* Drop the 5-byte record headers of the two plaintext records. */
	memmove(m->ch.b, m->ch.b + 5, m->ch.n -= 5);
	memmove(m->sh.b, m->sh.b + 5, m->sh.n -= 5);
	CHECK_EQ(m->ch.n, 196);
	CHECK_EQ(m->sh.n, 90);
}

TEST(rfc8448_1rtt_key_schedule)
{
	const br_hash_class *h = &br_sha256_vtable;
	const struct tls_suite_info *suite = tls_suite_find(TLS_AES_128_GCM_SHA256);
	struct tls_transcript t;
	struct tls_aead a;
	struct s3_msgs m;
	struct hex shared;
	uint8_t early[48], hs[48], ms[48], th[48], chs[48], shs[48], cap[48], sap[48], v[48];
	uint8_t empty[32], res[48], psk[32];
	static const uint8_t nonce[2] = {0, 0};

	s3_msgs(&m);
	hx(&shared, S3_SHARED);

	/* {server} extract secret "early": no PSK. */
	tls13_next_secret(h, NULL, NULL, 0, early);
	CHECK_HEX(early, 32, "33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a");
	/* {server} derive secret for handshake "tls13 derived" */
	sha256("", 0, empty);
	tls_derive_secret(h, early, "derived", empty, v);
	CHECK_HEX(v, 32, "6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba");
	/* {server} extract secret "handshake" */
	tls13_next_secret(h, early, shared.b, shared.n, hs);
	CHECK_HEX(hs, 32, "1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac");

	tls_transcript_init(&t);
	tls_transcript_update(&t, m.ch.b, m.ch.n);
	tls_transcript_update(&t, m.sh.b, m.sh.n);
	CHECK_EQ(tls_transcript_hash(&t, h, th), 32);
	CHECK_HEX(th, 32, "860c06edc07858ee8e78f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8");
	tls_derive_secret(h, hs, "c hs traffic", th, chs);
	CHECK_HEX(chs, 32, "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21");
	tls_derive_secret(h, hs, "s hs traffic", th, shs);
	CHECK_HEX(shs, 32, "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38");

	/* {server} derive secret for master "tls13 derived", extract "master" */
	tls_derive_secret(h, hs, "derived", empty, v);
	CHECK_HEX(v, 32, "43de77e0c77713859a944db9db2590b53190a65b3ee2e4f12dd7a0bb7ce254b4");
	tls13_next_secret(h, hs, NULL, 0, ms);
	CHECK_HEX(ms, 32, "18df06843d13a08bf2a449844c5f8a478001bc4d4c627984d5a41da8d0402919");

	/* {server} derive write traffic keys for handshake data */
	tls13_aead_init(&a, suite, shs);
	CHECK(a.on);
	CHECK_EQ(a.seq, 0);
	CHECK_HEX(a.key, 16, "3fce516009c21727d0f2e4e86ee403bc");
	CHECK_HEX(a.iv, 12, "5d313eb2671276ee13000b30");
	/* {server} derive read traffic keys for handshake data */
	tls13_aead_init(&a, suite, chs);
	CHECK_HEX(a.key, 16, "dbfaa693d1762c5b666af5d950258d01");
	CHECK_HEX(a.iv, 12, "5bd3c71b836e0b76bb73265f");

	/* {server} calculate finished "tls13 finished": over CH..CV */
	tls_transcript_update(&t, m.ee.b, m.ee.n);
	tls_transcript_update(&t, m.cert.b, m.cert.n);
	tls_transcript_update(&t, m.cv.b, m.cv.n);
	tls_hkdf_expand_label(h, shs, "finished", NULL, 0, v, 32);
	CHECK_HEX(v, 32, "008d3b66f816ea559f96b537e885c31fc068bf492c652f01f288a1d8cdc19fc8");
	tls_transcript_hash(&t, h, th);
	tls13_finished(h, shs, th, v);
	CHECK_HEX(v, 32, "9b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718");
	CHECK_EQ(m.sfin.n, 36);
	CHECK_MEM(m.sfin.b + 4, v, 32);

	/* {server} derive secret "tls13 c ap traffic" / "tls13 s ap traffic" /
	 * "tls13 exp master": over CH..server Finished */
	tls_transcript_update(&t, m.sfin.b, m.sfin.n);
	tls_transcript_hash(&t, h, th);
	CHECK_HEX(th, 32, "9608102a0f1ccc6db6250b7b7e417b1a000eaada3daae4777a7686c9ff83df13");
	tls_derive_secret(h, ms, "c ap traffic", th, cap);
	CHECK_HEX(cap, 32, "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5");
	tls_derive_secret(h, ms, "s ap traffic", th, sap);
	CHECK_HEX(sap, 32, "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643");
	tls_derive_secret(h, ms, "exp master", th, v);
	CHECK_HEX(v, 32, "fe22f881176eda18eb8f44529e6792c50c9a3f89452f68d8ae311b4309d3cf50");
	/* {server} derive write traffic keys for application data */
	tls13_aead_init(&a, suite, sap);
	CHECK_HEX(a.key, 16, "9f02283b6c9c07efc26bb9f2ac92e356");
	CHECK_HEX(a.iv, 12, "cf782b88dd83549aadf1e984");
	/* {client} derive write traffic keys for application data */
	tls13_aead_init(&a, suite, cap);
	CHECK_HEX(a.key, 16, "17422dda596ed5d9acd890e3c63f5051");
	CHECK_HEX(a.iv, 12, "5b78923dee08579033e523d9");

	/* {client} calculate finished "tls13 finished" */
	tls_hkdf_expand_label(h, chs, "finished", NULL, 0, v, 32);
	CHECK_HEX(v, 32, "b80ad01015fb2f0bd65ff7d4da5d6bf83f84821d1f87fdc7d3c75b5a7b42d9c4");
	tls13_finished(h, chs, th, v);
	CHECK_HEX(v, 32, "a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2edd5ce61");

	/* {client} derive secret "tls13 res master": over CH..client Finished */
	uint8_t cfin[36] = {TLS_HS_FINISHED, 0, 0, 32};
	memcpy(cfin + 4, v, 32);
	tls_transcript_update(&t, cfin, sizeof cfin);
	tls_transcript_hash(&t, h, th);
	CHECK_HEX(th, 32, "209145a96ee8e2a122ff810047cc952684658d6049e86429426db87c54ad143d");
	tls_derive_secret(h, ms, "res master", th, res);
	CHECK_HEX(res, 32, "7df235f2031d2a051287d02b0241b0bfdaf86cc856231f2d5aba46c434ec196c");
	/* {server} generate resumption secret "tls13 resumption": RFC 8446
	 * 4.6.1, the PSK for the ticket with nonce 00 00 */
	tls_hkdf_expand_label(h, res, "resumption", nonce, sizeof nonce, psk, 32);
	CHECK_HEX(psk, 32, "4ecd0eb6ec3b4d87f5d6028f922ca4c5851a277fd41311c9e62d2c9492e1c4f3");
}

/* Opens a record (hex) with a, checking its type and plaintext. */
static void open_check(struct tls_aead *a, const char *rec_hex, uint8_t want_type,
		       const uint8_t *want, size_t want_len)
{
	struct hex r;
	uint8_t type = 0, *plain = NULL;
	size_t len = 0;
	uint64_t seq = a->seq;

	hx(&r, rec_hex);
	CHECK_EQ(tls_aead_open(a, r.b, r.n, &type, &plain, &len), 0);
	CHECK_EQ(type, want_type);
	CHECK_EQ(len, want_len);
	if (plain != NULL && len == want_len)
		CHECK_MEM(plain, want, want_len);
	CHECK_EQ(a->seq, seq + 1);
}

/* Seals want_len bytes of type with a and compares with the record (hex). */
static void seal_check(struct tls_aead *a, uint8_t type, const uint8_t *data, size_t len,
		       const char *rec_hex)
{
	struct hex want;
	uint8_t rec[1024];

	hx(&want, rec_hex);
	memcpy(rec + TLS_REC_HDR + tls_aead_prefix(a), data, len);
	CHECK_EQ(tls_aead_seal(a, type, rec, len), want.n);
	CHECK_MEM(rec, want.b, want.n);
}

TEST(rfc8448_1rtt_records)
{
	const struct tls_suite_info *suite = tls_suite_find(TLS_AES_128_GCM_SHA256);
	struct tls_aead plain = {0}, s_hs, c_hs, s_ap, c_ap;
	struct s3_msgs m;
	struct hex r, ticket, app;
	uint8_t flight[1024], nst[256], cfin[36] = {TLS_HS_FINISHED, 0, 0, 32};
	uint8_t type, *p;
	size_t n, len;
	static const uint8_t close_notify[2] = {1, 0};

	s3_msgs(&m);
	struct hex chs, shs, cap, sap;
	hx(&chs, "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21");
	hx(&shs, "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38");
	hx(&cap, "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5");
	hx(&sap, "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643");
	tls13_aead_init(&s_hs, suite, shs.b);
	tls13_aead_init(&c_hs, suite, chs.b);
	tls13_aead_init(&s_ap, suite, sap.b);
	tls13_aead_init(&c_ap, suite, cap.b);

	/* {server} send handshake record: the ServerHello in the clear. */
	hx(&r, S3_SH_REC);
	CHECK_EQ(tls_aead_open(&plain, r.b, r.n, &type, &p, &len), 0);
	CHECK_EQ(type, TLS_CT_HANDSHAKE);
	CHECK_EQ(len, m.sh.n);
	CHECK_MEM(p, m.sh.b, m.sh.n);
	/* ... and sealed in the clear it is the same record. */
	seal_check(&plain, TLS_CT_HANDSHAKE, m.sh.b, m.sh.n, S3_SH_REC);

	/* {server} send handshake record: EE, Certificate, CV, Finished in
	 * one protected record. */
	n = 0;
	memcpy(flight + n, m.ee.b, m.ee.n), n += m.ee.n;
	memcpy(flight + n, m.cert.b, m.cert.n), n += m.cert.n;
	memcpy(flight + n, m.cv.b, m.cv.n), n += m.cv.n;
	memcpy(flight + n, m.sfin.b, m.sfin.n), n += m.sfin.n;
	CHECK_EQ(n, 657);
	open_check(&s_hs, S3_SERVER_FLIGHT_REC, TLS_CT_HANDSHAKE, flight, n);
	/* Sealing the same plaintext with fresh keys gives the RFC's bytes. */
	tls13_aead_init(&s_hs, suite, shs.b);
	seal_check(&s_hs, TLS_CT_HANDSHAKE, flight, n, S3_SERVER_FLIGHT_REC);

	/* {client} send handshake record: the client's Finished. */
	hx(&r, "a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2edd5ce61");
	memcpy(cfin + 4, r.b, 32);
	seal_check(&c_hs, TLS_CT_HANDSHAKE, cfin, sizeof cfin, S3_CFIN_REC);
	CHECK_EQ(c_hs.seq, 1);

	/* {server} send handshake record: the NewSessionTicket, first under
	 * the server's application keys. */
	hx(&ticket, S3_TICKET);
	CHECK_EQ(ticket.n, 178);
	hx(&r, "040000c90000001efad6aac502000000b2");
	n = r.n;
	memcpy(nst, r.b, n);
	memcpy(nst + n, ticket.b, ticket.n), n += ticket.n;
	hx(&r, "0008002a000400000400");
	memcpy(nst + n, r.b, r.n), n += r.n;
	CHECK_EQ(n, 205);
	open_check(&s_ap, S3_NST_REC, TLS_CT_HANDSHAKE, nst, n);

	/* Application data both ways, then close_notify both ways. */
	hx(&app, S3_APPDATA);
	CHECK_EQ(app.n, 50);
	seal_check(&c_ap, TLS_CT_APPDATA, app.b, app.n, S3_C_APPDATA_REC);
	open_check(&s_ap, S3_S_APPDATA_REC, TLS_CT_APPDATA, app.b, app.n);
	seal_check(&c_ap, TLS_CT_ALERT, close_notify, 2, S3_C_CLOSE_REC);
	open_check(&s_ap, S3_S_CLOSE_REC, TLS_CT_ALERT, close_notify, 2);
	CHECK_EQ(c_ap.seq, 2);
	CHECK_EQ(s_ap.seq, 3);

	/* The server reads what the client sealed. */
	tls13_aead_init(&c_ap, suite, cap.b);
	open_check(&c_ap, S3_C_APPDATA_REC, TLS_CT_APPDATA, app.b, app.n);
	open_check(&c_ap, S3_C_CLOSE_REC, TLS_CT_ALERT, close_notify, 2);
}

/* ---- RFC 8448 section 4: resumed 0-RTT handshake ----------------------------- */

TEST(rfc8448_resumption_binder_and_early_data)
{
	const br_hash_class *h = &br_sha256_vtable;
	const struct tls_suite_info *suite = tls_suite_find(TLS_AES_128_GCM_SHA256);
	struct hex psk, ch, data;
	struct tls_aead a;
	uint8_t early[32], empty[32], bk[32], th[32], v[32], cets[32];

	hx(&psk, "4ecd0eb6ec3b4d87f5d6028f922ca4c5851a277fd41311c9e62d2c9492e1c4f3");
	/* {client} extract secret "early": the PSK is the IKM. */
	tls13_next_secret(h, NULL, psk.b, psk.n, early);
	CHECK_HEX(early, 32, "9b2188e9b2fc6d64d71dc329900e20bb41915000f678aa839cbb797cb7d8332c");

	/* {client} calculate PSK binder: RFC 8446 4.2.11.2, the binder key is
	 * Derive-Secret(early, "res binder", "") and the binder a Finished
	 * over the ClientHello truncated before the binders list. */
	hx(&ch, S4_CH_REC);
	memmove(ch.b, ch.b + 5, ch.n -= 5);
	CHECK_EQ(ch.n, 512);
	sha256(ch.b, 477, th);
	CHECK_HEX(th, 32, "63224b2e4573f2d3454ca84b9d009a04f6be9e05711a8396473aefa01e924a14");
	sha256("", 0, empty);
	tls_derive_secret(h, early, "res binder", empty, bk);
	CHECK_HEX(bk, 32, "69fe131a3bbad5d63c64eebcc30e395b9d8107726a13d074e389dbc8a4e47256");
	tls_hkdf_expand_label(h, bk, "finished", NULL, 0, v, 32);
	CHECK_HEX(v, 32, "5588673e72cb59c87d220caffe94f2dea9a3b1609f7d50e90a48227db9ed7eaa");
	tls13_finished(h, bk, th, v);
	CHECK_HEX(v, 32, "3add4fb2d8fdf822a0ca3cf7678ef5e88dae990141c5924d57bb6fa31b9e5f9d");
	/* ... and it is what the ClientHello carries last. */
	CHECK_MEM(ch.b + ch.n - 32, v, 32);

	/* {client} derive secret "tls13 c e traffic" over the whole
	 * ClientHello, and the early data record sealed with it. */
	sha256(ch.b, ch.n, th);
	CHECK_HEX(th, 32, "08ad0fa05d7c7233b1775ba2ff9f4c5b8b59276b7f227f13a976245f5d960913");
	tls_derive_secret(h, early, "c e traffic", th, cets);
	CHECK_HEX(cets, 32, "3fbbe6a60deb66c30a32795aba0eff7eaa10105586e7be5c09678d63b6caab62");
	tls13_aead_init(&a, suite, cets);
	CHECK_HEX(a.key, 16, "920205a5b7bf2115e6fc5c2942834f54");
	hx(&data, S4_EARLY_DATA);
	seal_check(&a, TLS_CT_APPDATA, data.b, data.n, S4_EARLY_DATA_REC);
}

/* ---- RFC 8448 section 5: HelloRetryRequest, then P-256 ----------------------- */

#define S5_C_PRIV "ab5473467e19346ceb0a0414e41da21d4d2445bc3025afe97c4e8dc8d513da39"
#define S5_C_PUB                                                                                   \
	"04a6da7392ec591e17abfd535964b99894d13befb221b3def2ebe3830eac8f01"                         \
	"51812677c4d6d2237e85cf01d6910cfb83954e76ba7352830534159897e8065780"
#define S5_S_PRIV "8c510601f9765bfb8ed693449a48989859b5cfa879cb9f5443c41c5ff10634ed"
#define S5_S_PUB                                                                                   \
	"04583e054b7a66672ae020ad9d2686fcc85b5ad41a134a0f03ee72b893052bd8"                         \
	"5b4c8de6776f5b04ac07d83540eab3e3d9c547bc6528c4317d294686093a6cad7d"
#define S5_SHARED "c142ce13ca11b5c2233652e63ad3d97844f1621fbfb9de69d547dc8fedeabeb4"

static void p256_key(struct tls_ecdhe *e, const char *priv)
{
	memset(e, 0, sizeof *e);
	e->group = TLS_GROUP_P256;
	e->priv_len = unhex(priv, e->priv, sizeof e->priv);
	CHECK_EQ(e->priv_len, 32);
}

TEST(rfc8448_hrr_p256_and_transcript)
{
	const br_hash_class *h = &br_sha256_vtable;
	const struct tls_suite_info *suite = tls_suite_find(TLS_AES_128_GCM_SHA256);
	struct tls_ecdhe c, s;
	struct tls_transcript t;
	struct tls_aead a;
	struct hex peer, ch1, hrr, ch2, sh, rec;
	uint8_t out[48], early[32], hs[32], ms[32], th[32], chs[32], shs[32], v[32];
	uint8_t type, *p;
	size_t n = 0, len;

	/* {client}/{server} create an ephemeral P-256 key pair: the public
	 * keys follow from the private ones (BearSSL directly), and the
	 * exchange gives the RFC's IKM both ways. */
	p256_key(&c, S5_C_PRIV);
	p256_key(&s, S5_S_PRIV);
	{
		br_ec_private_key sk = {BR_EC_secp256r1, c.priv, c.priv_len};
		uint8_t pub[65];
		CHECK_EQ(br_ec_compute_pub(br_ec_get_default(), NULL, pub, &sk), 65);
		CHECK_HEX(pub, 65, S5_C_PUB);
		sk.x = s.priv;
		CHECK_EQ(br_ec_compute_pub(br_ec_get_default(), NULL, pub, &sk), 65);
		CHECK_HEX(pub, 65, S5_S_PUB);
	}
	hx(&peer, S5_S_PUB);
	CHECK_EQ(tls_ecdhe_shared(&c, peer.b, peer.n, out, &n), ATL_OK);
	CHECK_HEX(out, n, S5_SHARED);
	hx(&peer, S5_C_PUB);
	CHECK_EQ(tls_ecdhe_shared(&s, peer.b, peer.n, out, &n), ATL_OK);
	CHECK_HEX(out, n, S5_SHARED);

	/* The transcript: ClientHello1 collapses into message_hash after the
	 * HelloRetryRequest (RFC 8446 4.4.1). */
	hx(&ch1, S5_CH1_REC);
	hx(&hrr, S5_HRR_REC);
	hx(&ch2, S5_CH2_REC);
	hx(&sh, S5_SH);
	tls_transcript_init(&t);
	tls_transcript_update(&t, ch1.b + 5, ch1.n - 5);
	tls_transcript_hrr_restart(&t, h);
	tls_transcript_update(&t, hrr.b + 5, hrr.n - 5);
	tls_transcript_update(&t, ch2.b + 5, ch2.n - 5);
	tls_transcript_update(&t, sh.b, sh.n);
	tls_transcript_hash(&t, h, th);
	CHECK_HEX(th, 32, "8aa8e828ec2f8a884fec95a3139de01c15a3daa7ff5bfc3f4bfcc21b438d7bf8");

	/* {server} extract secret "handshake", derive the traffic secrets */
	tls13_next_secret(h, NULL, NULL, 0, early);
	tls13_next_secret(h, early, out, n, hs);
	CHECK_HEX(hs, 32, "ce022e5e6e81e50736d773f2d3adfce8220d049bf510f0dbfac927ef4243b148");
	tls_derive_secret(h, hs, "c hs traffic", th, chs);
	CHECK_HEX(chs, 32, "158aa7ab8855073582b41d674b4055cabcc534728f659314861b4e08e2011566");
	tls_derive_secret(h, hs, "s hs traffic", th, shs);
	CHECK_HEX(shs, 32, "3403e781e2af7b6508da28574f6e95a1abf162de83a97927c37672a4a0cef8a1");
	tls13_next_secret(h, hs, NULL, 0, ms);
	CHECK_HEX(ms, 32, "1131545d0baf79ddce9b87f06945781a57dd18ef378dcd2060f8f9a569027ed8");

	/* {server} send handshake record: the encrypted flight opens with
	 * the handshake keys, starts with the EncryptedExtensions and ends
	 * with the Finished; hashed in, it gives the RFC's application
	 * secrets. */
	tls13_aead_init(&a, suite, shs);
	CHECK_HEX(a.key, 16, "4646bfac1712c426cd78d8a24a8a6f6b");
	CHECK_HEX(a.iv, 12, "c7d395c08d62f297d13768ea");
	hx(&rec, S5_SERVER_FLIGHT_REC);
	CHECK_EQ(rec.n, 667);
	CHECK_EQ(tls_aead_open(&a, rec.b, rec.n, &type, &p, &len), 0);
	CHECK_EQ(type, TLS_CT_HANDSHAKE);
	CHECK_EQ(len, 645);
	CHECK_HEX(p, 8, "080000180016000a");
	CHECK_HEX(p + len - 36, 8, "140000208863e6bf");
	tls_transcript_update(&t, p, len - 36); /* CH..CV: the flight but its Finished */
	tls_transcript_hash(&t, h, th);
	tls13_finished(h, shs, th, v);
	CHECK_MEM(p + len - 32, v, 32);
	tls_transcript_update(&t, p + len - 36, 36);
	tls_transcript_hash(&t, h, th);
	CHECK_HEX(th, 32, "50f63cbf36b0dd049e7a0ba27d6455745ea2aaac54bb167f9950b2b7ce9509da");
	tls_derive_secret(h, ms, "c ap traffic", th, v);
	CHECK_HEX(v, 32, "75ecf4b972525aa0dcd057c9944d4cd5d82671d8843141d7dc2a4ff15a21dc51");
	tls_derive_secret(h, ms, "s ap traffic", th, v);
	CHECK_HEX(v, 32, "5c74f87df04225db0f8209c9de6429e49435fdefa7cad61864874d12f31cfc8d");
	tls_derive_secret(h, ms, "exp master", th, v);
	CHECK_HEX(v, 32, "7c06d3ae106a3a374ace4837b3985cac67780a6e2c5c04b58319d584df09d223");
}

/* ---- HKDF, PRF, transcript, suites -------------------------------------------- */

TEST(hkdf_extract_rfc5869_case1)
{
	uint8_t ikm[22], salt[13], prk[32];

	memset(ikm, 0x0b, sizeof ikm);
	for (unsigned i = 0; i < sizeof salt; i++)
		salt[i] = (uint8_t)i;
	tls_hkdf_extract(&br_sha256_vtable, salt, sizeof salt, ikm, sizeof ikm, prk);
	CHECK_HEX(prk, 32, "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5");
}

TEST(hkdf_expand_label_layout_and_update)
{
	/* Expand-Label is HKDF-Expand with the RFC 8446 7.1 HkdfLabel: rebuild
	 * the info by hand, run RFC 5869 2.3 with BearSSL's HMAC for a length
	 * spanning two SHA-384 blocks, and compare. */
	const br_hash_class *h = &br_sha384_vtable;
	uint8_t secret[48], ctx[5] = {1, 2, 3, 4, 5}, got[80], want[96], t[48];
	uint8_t info[64];
	size_t in = 0;
	br_hmac_key_context kc;
	br_hmac_context hc;

	for (unsigned i = 0; i < sizeof secret; i++)
		secret[i] = (uint8_t)(0xa0 + i);
	info[in++] = 0;
	info[in++] = 80;
	info[in++] = 6 + 4;
	memcpy(info + in, "tls13 abcd", 10), in += 10;
	info[in++] = 5;
	memcpy(info + in, ctx, 5), in += 5;
	br_hmac_key_init(&kc, h, secret, 48);
	for (uint8_t i = 1; i <= 2; i++) {
		br_hmac_init(&hc, &kc, 0);
		if (i == 2)
			br_hmac_update(&hc, t, 48);
		br_hmac_update(&hc, info, in);
		br_hmac_update(&hc, &i, 1);
		br_hmac_out(&hc, t);
		memcpy(want + 48 * (i - 1), t, 48);
	}
	tls_hkdf_expand_label(h, secret, "abcd", ctx, 5, got, 80);
	CHECK_MEM(got, want, 80);

	/* RFC 8446 7.2: the next traffic secret is Expand-Label("traffic upd"). */
	uint8_t s[48], next[48];
	memcpy(s, secret, 48);
	tls_hkdf_expand_label(h, secret, "traffic upd", NULL, 0, next, 48);
	tls13_update_secret(h, s);
	CHECK_MEM(s, next, 48);
	CHECK_EQ(tls_hash_len(h), 48);
	CHECK_EQ(tls_hash_len(&br_sha256_vtable), 32);
}

TEST(tls12_prf_published_vectors)
{
	struct hex secret, seed;
	uint8_t out[148];

	/* The TLS 1.2 PRF vectors published on the IETF TLS list. */
	hx(&secret, "9bbe436ba940f017b17652849a71db35");
	hx(&seed, "a0ba9f936cda311827a6f796ffd5198c");
	tls12_prf(&br_sha256_vtable, secret.b, secret.n, "test label", seed.b, seed.n, NULL, 0, out,
		  100);
	CHECK_HEX(out, 100,
		  "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9"
		  "c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789ba"
		  "a48082d122ee42c5a72e5a5110fff70187347b66");
	/* The seed in two parts is the same seed. */
	tls12_prf(&br_sha256_vtable, secret.b, secret.n, "test label", seed.b, 5, seed.b + 5,
		  seed.n - 5, out, 100);
	CHECK_HEX(out, 4, "e3f229ba");

	hx(&secret, "b80b733d6ceefcdc71566ea48e5567df");
	hx(&seed, "cd665cf6a8447dd6ff8b27555edb7465");
	tls12_prf(&br_sha384_vtable, secret.b, secret.n, "test label", seed.b, seed.n, NULL, 0, out,
		  148);
	CHECK_HEX(out, 148,
		  "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cde9ca0faa60be9fe3"
		  "4f82b1233c9146a0e534cb400fed2700884f9dc236f80edd8bfa961144c9e8d792eca722a7b32fc3"
		  "d416d473ebc2c5fd4abfdad05d9184259b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236"
		  "a3e52655c9e9aee691c8f3a26854308d5eaa3be85e0990703d73e56f");
}

TEST(tls12_master_secret_and_finished)
{
	uint8_t pms[32], cr[32], sr[32], sh[32], m[48], want[48], fin[12], wfin[12];

	for (unsigned i = 0; i < 32; i++) {
		pms[i] = (uint8_t)i;
		cr[i] = (uint8_t)(0x40 + i);
		sr[i] = (uint8_t)(0x80 + i);
		sh[i] = (uint8_t)(0xc0 + i);
	}
	/* RFC 7627 4: the session hash is the seed. */
	tls12_master_secret(&br_sha256_vtable, pms, 32, true, sh, 32, cr, sr, m);
	tls12_prf(&br_sha256_vtable, pms, 32, "extended master secret", sh, 32, NULL, 0, want, 48);
	CHECK_MEM(m, want, 48);
	/* RFC 5246 8.1: client_random + server_random. */
	tls12_master_secret(&br_sha384_vtable, pms, 32, false, NULL, 0, cr, sr, m);
	tls12_prf(&br_sha384_vtable, pms, 32, "master secret", cr, 32, sr, 32, want, 48);
	CHECK_MEM(m, want, 48);
	/* RFC 5246 7.4.9: 12 bytes of PRF(master, "client finished", hash). */
	tls12_finished(&br_sha256_vtable, m, true, sh, 32, fin);
	tls12_prf(&br_sha256_vtable, m, 48, "client finished", sh, 32, NULL, 0, wfin, 12);
	CHECK_MEM(fin, wfin, 12);
	tls12_finished(&br_sha256_vtable, m, false, sh, 32, fin);
	tls12_prf(&br_sha256_vtable, m, 48, "server finished", sh, 32, NULL, 0, wfin, 12);
	CHECK_MEM(fin, wfin, 12);
}

TEST(transcript_hash_does_not_end_it)
{
	struct tls_transcript t;
	uint8_t a[48], b[48], w[48];
	br_sha384_context c;

	tls_transcript_init(&t);
	tls_transcript_update(&t, "abc", 3);
	CHECK_EQ(tls_transcript_hash(&t, &br_sha256_vtable, a), 32);
	sha256("abc", 3, w);
	CHECK_MEM(a, w, 32);
	tls_transcript_update(&t, "def", 3);
	tls_transcript_hash(&t, &br_sha256_vtable, a);
	tls_transcript_hash(&t, &br_sha256_vtable, b);
	sha256("abcdef", 6, w);
	CHECK_MEM(a, w, 32);
	CHECK_MEM(b, w, 32);
	CHECK_EQ(tls_transcript_hash(&t, &br_sha384_vtable, a), 48);
	br_sha384_init(&c);
	br_sha384_update(&c, "abcdef", 6);
	br_sha384_out(&c, w);
	CHECK_MEM(a, w, 48);

	/* RFC 8446 4.4.1 with SHA-384: 254 00 00 48 || SHA-384(CH1). */
	uint8_t mh[52] = {TLS_HS_MESSAGE_HASH, 0, 0, 48};
	memcpy(mh + 4, w, 48);
	tls_transcript_hrr_restart(&t, &br_sha384_vtable);
	tls_transcript_update(&t, "x", 1);
	br_sha384_init(&c);
	br_sha384_update(&c, mh, sizeof mh);
	br_sha384_update(&c, "x", 1);
	br_sha384_out(&c, w);
	tls_transcript_hash(&t, &br_sha384_vtable, a);
	CHECK_MEM(a, w, 48);
}

TEST(suite_table)
{
	static const uint16_t v13[] = {TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384,
				       TLS_CHACHA20_POLY1305_SHA256};
	static const uint16_t v12[] = {TLS_ECDHE_ECDSA_AES128_GCM, TLS_ECDHE_ECDSA_AES256_GCM,
				       TLS_ECDHE_RSA_AES128_GCM,   TLS_ECDHE_RSA_AES256_GCM,
				       TLS_ECDHE_RSA_CHACHA20,	   TLS_ECDHE_ECDSA_CHACHA20};
	const struct tls_suite_info *s;

	for (unsigned i = 0; i < 3; i++) {
		s = tls_suite_find(v13[i]);
		CHECK(s != NULL);
		if (s == NULL)
			continue;
		CHECK_EQ(s->id, v13[i]);
		CHECK_EQ(s->version, TLS_V13);
		CHECK_EQ(s->kx_sig, 0);
		CHECK(s->hash ==
		      (v13[i] == TLS_AES_256_GCM_SHA384 ? &br_sha384_vtable : &br_sha256_vtable));
	}
	for (unsigned i = 0; i < 6; i++) {
		s = tls_suite_find(v12[i]);
		CHECK(s != NULL);
		if (s == NULL)
			continue;
		CHECK_EQ(s->version, TLS_V12);
		bool rsa = v12[i] == TLS_ECDHE_RSA_AES128_GCM ||
			   v12[i] == TLS_ECDHE_RSA_AES256_GCM || v12[i] == TLS_ECDHE_RSA_CHACHA20;
		CHECK_EQ(s->kx_sig, rsa ? TLS_KEY_RSA : TLS_KEY_EC);
		bool sha384 =
		    v12[i] == TLS_ECDHE_ECDSA_AES256_GCM || v12[i] == TLS_ECDHE_RSA_AES256_GCM;
		CHECK(s->hash == (sha384 ? &br_sha384_vtable : &br_sha256_vtable));
	}
	CHECK_EQ(tls_suite_find(TLS_ECDHE_RSA_CHACHA20)->cipher, TLS_CIPHER_CHACHA20);
	CHECK_EQ(tls_suite_find(TLS_ECDHE_ECDSA_AES256_GCM)->cipher, TLS_CIPHER_AES256_GCM);
	CHECK_EQ(tls_suite_find(TLS_AES_128_GCM_SHA256)->cipher, TLS_CIPHER_AES128_GCM);
	CHECK(tls_suite_find(0x009c) == NULL); /* RSA key exchange: never */
	CHECK(tls_suite_find(0x1304) == NULL);
	CHECK(tls_suite_find(0) == NULL);
}

TEST(wipe_and_ct_eq)
{
	uint8_t a[33], b[33];

	memset(a, 0x5a, sizeof a);
	tls_wipe(a, sizeof a);
	memset(b, 0, sizeof b);
	CHECK_MEM(a, b, sizeof a);
	CHECK_EQ(tls_ct_eq(a, b, sizeof a), 1);
	CHECK_EQ(tls_ct_eq(a, b, 0), 1);
	for (unsigned i = 0; i < sizeof a; i++)
		for (unsigned bit = 0; bit < 8; bit++) {
			b[i] ^= (uint8_t)(1u << bit);
			CHECK_EQ(tls_ct_eq(a, b, sizeof a), 0);
			b[i] ^= (uint8_t)(1u << bit);
		}
}

/* ---- record protection: both versions, all ciphers ------------------------- */

#define REC_MAX (TLS_REC_HDR + 8 + TLS_MAX_CIPHERTEXT + 64)

struct pair {
	struct tls_aead w, r;
};

static const uint16_t pair_suites[6] = {
    TLS_AES_128_GCM_SHA256,	TLS_AES_256_GCM_SHA384,	  TLS_CHACHA20_POLY1305_SHA256,
    TLS_ECDHE_ECDSA_AES128_GCM, TLS_ECDHE_RSA_AES256_GCM, TLS_ECDHE_ECDSA_CHACHA20,
};

/* A writer and a reader with the same keys for pair_suites[i]. */
static void pair_init(struct pair *p, unsigned i)
{
	const struct tls_suite_info *s = tls_suite_find(pair_suites[i]);
	uint8_t secret[48], key[32], iv[12];

	for (unsigned k = 0; k < sizeof secret; k++)
		secret[k] = (uint8_t)(i * 16 + k);
	memcpy(key, secret, 32);
	memcpy(iv, secret + 32, 12);
	if (s->version == TLS_V13) {
		tls13_aead_init(&p->w, s, secret);
		tls13_aead_init(&p->r, s, secret);
	} else {
		tls12_aead_init(&p->w, s, key, iv);
		tls12_aead_init(&p->r, s, key, iv);
	}
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

TEST(seal_open_round_trips_every_length_class)
{
	uint8_t *rec = malloc(REC_MAX), *data = malloc(TLS_MAX_RECORD);
	struct pair p;

	fill(data, TLS_MAX_RECORD, 7);
	for (unsigned i = 0; i < 6; i++) {
		pair_init(&p, i);
		bool v13 = p.w.version == TLS_V13;
		bool gcm12 = !v13 && p.w.cipher != TLS_CIPHER_CHACHA20;
		CHECK_EQ(tls_aead_prefix(&p.w), gcm12 ? 8 : 0);
		CHECK_EQ(tls_aead_suffix(&p.w), v13 ? 17 : 16);
		uint64_t seq = 0;
		/* Every length near the ends, every seventh between (7 is
		 * prime to the cipher block sizes, so every alignment). */
		for (size_t len = 0; len <= TLS_MAX_RECORD;
		     len += len < 1024 || len >= TLS_MAX_RECORD - 1024 ? 1 : 7) {
			uint8_t type = (uint8_t)(TLS_CT_CCS + len % 4), got_type = 0, *pl = NULL;
			size_t pre = tls_aead_prefix(&p.w), n, got = 0;

			memcpy(rec + TLS_REC_HDR + pre, data, len);
			n = tls_aead_seal(&p.w, type, rec, len);
			CHECK_EQ(n, TLS_REC_HDR + pre + len + tls_aead_suffix(&p.w));
			CHECK_EQ(rec[0], v13 ? TLS_CT_APPDATA : type);
			CHECK_EQ(rec[1] << 8 | rec[2], 0x0303);
			CHECK_EQ((size_t)(rec[3] << 8 | rec[4]), n - TLS_REC_HDR);
			CHECK_EQ(tls_aead_open(&p.r, rec, n, &got_type, &pl, &got), 0);
			CHECK_EQ(got_type, type);
			CHECK_EQ(got, len);
			CHECK(pl == rec + TLS_REC_HDR + pre);
			if (got == len && len)
				CHECK_MEM(pl, data, len);
			seq++;
			CHECK_EQ(p.w.seq, seq);
			CHECK_EQ(p.r.seq, seq);
		}
	}
	free(rec);
	free(data);
}

TEST(sequence_numbers_change_the_record)
{
	/* Two records of the same plaintext differ (the nonce moves), and a
	 * reader out of step rejects them: replay and reordering fail. */
	uint8_t r1[64], r2[64], type, *pl;
	size_t n1, n2, len;
	struct pair p;

	for (unsigned i = 0; i < 6; i++) {
		pair_init(&p, i);
		size_t pre = tls_aead_prefix(&p.w);
		memset(r1 + 5 + pre, 'a', 10);
		memset(r2 + 5 + pre, 'a', 10);
		n1 = tls_aead_seal(&p.w, TLS_CT_APPDATA, r1, 10);
		n2 = tls_aead_seal(&p.w, TLS_CT_APPDATA, r2, 10);
		CHECK_EQ(n1, n2);
		CHECK(memcmp(r1, r2, n1) != 0);
		/* r2 first: the reader expects sequence 0.  (1.2 GCM carries
		 * its nonce, but the sequence number is in the AAD.) */
		CHECK_EQ(tls_aead_open(&p.r, r2, n2, &type, &pl, &len), TLS_ALERT_BAD_RECORD_MAC);
		CHECK_EQ(p.r.seq, 0);
		CHECK_EQ(tls_aead_open(&p.r, r1, n1, &type, &pl, &len), 0);
		CHECK_EQ(p.r.seq, 1);
	}
}

TEST(tampered_records_are_bad_record_mac)
{
	uint8_t rec[128], bad[128], type, *pl;
	size_t n, len;
	struct pair p;

	for (unsigned i = 0; i < 6; i++) {
		pair_init(&p, i);
		size_t pre = tls_aead_prefix(&p.w);
		fill(rec + 5 + pre, 40, i);
		n = tls_aead_seal(&p.w, TLS_CT_HANDSHAKE, rec, 40);
		/* Every byte but the length (which frames the record and is
		 * only in 1.3's additional data), one bit at a time. */
		for (size_t k = 0; k < n; k++) {
			if (p.w.version == TLS_V12 && (k == 3 || k == 4))
				continue;
			for (unsigned bit = 0; bit < 8; bit += 3) {
				memcpy(bad, rec, n);
				bad[k] ^= (uint8_t)(1u << bit);
				CHECK_EQ(tls_aead_open(&p.r, bad, n, &type, &pl, &len),
					 TLS_ALERT_BAD_RECORD_MAC);
			}
		}
		CHECK_EQ(p.r.seq, 0);
		/* A record cut short by one byte fails too. */
		memcpy(bad, rec, n);
		CHECK_EQ(tls_aead_open(&p.r, bad, n - 1, &type, &pl, &len),
			 TLS_ALERT_BAD_RECORD_MAC);
		/* And the untouched one still opens. */
		CHECK_EQ(tls_aead_open(&p.r, rec, n, &type, &pl, &len), 0);
		CHECK_EQ(len, 40);
	}
}

TEST(records_too_short_for_the_tag)
{
	uint8_t rec[64] = {0}, type, *pl;
	size_t len;
	struct pair p;

	for (unsigned i = 0; i < 6; i++) {
		pair_init(&p, i);
		size_t min = 16 + tls_aead_prefix(&p.r);
		for (size_t n = 0; n < min; n++) {
			rec[0] = p.r.version == TLS_V13 ? TLS_CT_APPDATA : TLS_CT_HANDSHAKE;
			rec[1] = rec[2] = 3;
			rec[3] = 0;
			rec[4] = (uint8_t)n;
			CHECK_EQ(tls_aead_open(&p.r, rec, 5 + n, &type, &pl, &len),
				 TLS_ALERT_BAD_RECORD_MAC);
		}
		CHECK_EQ(p.r.seq, 0);
	}
}

TEST(tls13_padding_is_stripped)
{
	/* RFC 8446 5.4: content || type || zeros.  Sealing with type 0 puts
	 * one more zero after our own type byte and padding. */
	uint8_t *rec = malloc(REC_MAX), type, *pl;
	size_t n, len;
	struct pair p;

	for (unsigned i = 0; i < 3; i++) {
		pair_init(&p, i);
		for (size_t pad = 0; pad < 300; pad += 37) {
			memcpy(rec + 5, "hello", 5);
			rec[5 + 5] = TLS_CT_APPDATA;
			memset(rec + 5 + 6, 0, pad);
			n = tls_aead_seal(&p.w, 0, rec, 6 + pad);
			CHECK_EQ(tls_aead_open(&p.r, rec, n, &type, &pl, &len), 0);
			CHECK_EQ(type, TLS_CT_APPDATA);
			CHECK_EQ(len, 5);
			CHECK_MEM(pl, "hello", 5);
		}
		/* An empty content with padding is legal (RFC 8446 5.4 allows
		 * zero-length application data). */
		rec[5] = TLS_CT_APPDATA;
		memset(rec + 6, 0, 10);
		n = tls_aead_seal(&p.w, 0, rec, 11);
		CHECK_EQ(tls_aead_open(&p.r, rec, n, &type, &pl, &len), 0);
		CHECK_EQ(len, 0);
		CHECK_EQ(type, TLS_CT_APPDATA);
		/* Padding up to the 2^14 + 1 byte inner plaintext limit opens;
		 * one more byte is record_overflow. */
		memcpy(rec + 5, "x", 1);
		rec[6] = TLS_CT_HANDSHAKE;
		memset(rec + 7, 0, TLS_MAX_RECORD);
		n = tls_aead_seal(&p.w, 0, rec, TLS_MAX_RECORD);
		CHECK_EQ(n, TLS_REC_HDR + TLS_MAX_RECORD + 1 + 16);
		CHECK_EQ(tls_aead_open(&p.r, rec, n, &type, &pl, &len), 0);
		CHECK_EQ(type, TLS_CT_HANDSHAKE);
		CHECK_EQ(len, 1);
		memcpy(rec + 5, "x", 1);
		rec[6] = TLS_CT_HANDSHAKE;
		memset(rec + 7, 0, TLS_MAX_RECORD);
		n = tls_aead_seal(&p.w, 0, rec, TLS_MAX_RECORD + 1);
		CHECK_EQ(tls_aead_open(&p.r, rec, n, &type, &pl, &len), TLS_ALERT_RECORD_OVERFLOW);
	}
	free(rec);
}

TEST(tls13_all_zero_inner_is_unexpected_message)
{
	uint8_t rec[64], type, *pl;
	size_t n, len;
	struct pair p;

	for (unsigned i = 0; i < 3; i++) {
		pair_init(&p, i);
		for (size_t zeros = 0; zeros < 20; zeros += 7) {
			memset(rec + 5, 0, zeros);
			n = tls_aead_seal(&p.w, 0, rec, zeros);
			CHECK_EQ(tls_aead_open(&p.r, rec, n, &type, &pl, &len),
				 TLS_ALERT_UNEXPECTED_MESSAGE);
		}
	}
}

TEST(oversize_records_are_record_overflow)
{
	uint8_t *rec = malloc(REC_MAX + 16), type, *pl;
	size_t n, len;
	struct pair p;

	for (unsigned i = 0; i < 6; i++) {
		pair_init(&p, i);
		size_t pre = tls_aead_prefix(&p.w);
		/* 2^14 + 1 bytes of content, sealed anyway, refused. */
		memset(rec + 5 + pre, 'z', TLS_MAX_RECORD + 1);
		n = tls_aead_seal(&p.w, TLS_CT_APPDATA, rec, TLS_MAX_RECORD + 1);
		CHECK_EQ(tls_aead_open(&p.r, rec, n, &type, &pl, &len), TLS_ALERT_RECORD_OVERFLOW);
		/* Exactly 2^14 is fine. */
		pair_init(&p, i);
		memset(rec + 5 + pre, 'z', TLS_MAX_RECORD);
		n = tls_aead_seal(&p.w, TLS_CT_APPDATA, rec, TLS_MAX_RECORD);
		CHECK_EQ(tls_aead_open(&p.r, rec, n, &type, &pl, &len), 0);
		CHECK_EQ(len, TLS_MAX_RECORD);
		/* 1.3: ciphertext over 2^14 + 256 is refused before the tag. */
		if (p.r.version == TLS_V13) {
			memset(rec, 0, TLS_REC_HDR + TLS_MAX_CIPHERTEXT + 1);
			CHECK_EQ(tls_aead_open(&p.r, rec, TLS_REC_HDR + TLS_MAX_CIPHERTEXT + 1,
					       &type, &pl, &len),
				 TLS_ALERT_RECORD_OVERFLOW);
		}
	}
	/* Plaintext records (before the keys) have the same limit. */
	struct tls_aead none = {0};
	memset(rec, 0, TLS_REC_HDR + TLS_MAX_RECORD + 1);
	CHECK_EQ(tls_aead_prefix(&none), 0);
	CHECK_EQ(tls_aead_suffix(&none), 0);
	CHECK_EQ(tls_aead_open(&none, rec, TLS_REC_HDR + TLS_MAX_RECORD + 1, &type, &pl, &len),
		 TLS_ALERT_RECORD_OVERFLOW);
	CHECK_EQ(tls_aead_open(&none, rec, TLS_REC_HDR + TLS_MAX_RECORD, &type, &pl, &len), 0);
	free(rec);
}

TEST(tls12_gcm_explicit_nonce_is_the_sequence)
{
	/* RFC 5288 3: 4-byte salt || 8-byte explicit nonce, which we set to
	 * the sequence number; RFC 7905 has none. */
	uint8_t rec[64];
	struct pair p;

	pair_init(&p, 3);
	p.w.seq = 0x0102030405060708ull;
	tls_aead_seal(&p.w, TLS_CT_APPDATA, rec, 0);
	CHECK_HEX(rec + 5, 8, "0102030405060708");
	CHECK_EQ(rec[3] << 8 | rec[4], 8 + 16);
	pair_init(&p, 5);
	CHECK_EQ(tls_aead_seal(&p.w, TLS_CT_APPDATA, rec, 0), 5 + 16);
}

/* ---- ECDHE ---------------------------------------------------------------------- */

static void drbg(br_hmac_drbg_context *d, uint8_t seed)
{
	uint8_t s[32];
	memset(s, seed, sizeof s);
	br_hmac_drbg_init(d, &br_sha256_vtable, s, sizeof s);
}

TEST(ecdhe_agreement_every_group)
{
	static const uint16_t groups[3] = {TLS_GROUP_X25519, TLS_GROUP_P256, TLS_GROUP_P384};
	static const size_t pub_len[3] = {32, 65, 97}, sec_len[3] = {32, 32, 48};
	br_hmac_drbg_context rng;
	struct tls_ecdhe a, b;
	uint8_t sa[48], sb[48];
	size_t na = 0, nb = 0;

	drbg(&rng, 1);
	for (unsigned i = 0; i < 3; i++) {
		CHECK(tls_group_known(groups[i]));
		for (unsigned round = 0; round < 3; round++) {
			CHECK_EQ(tls_ecdhe_gen(&a, groups[i], &rng.vtable), ATL_OK);
			CHECK_EQ(tls_ecdhe_gen(&b, groups[i], &rng.vtable), ATL_OK);
			CHECK_EQ(a.group, groups[i]);
			CHECK_EQ(a.pub_len, pub_len[i]);
			CHECK_EQ(b.pub_len, pub_len[i]);
			CHECK(memcmp(a.pub, b.pub, a.pub_len) != 0);
			CHECK_EQ(tls_ecdhe_shared(&a, b.pub, b.pub_len, sa, &na), ATL_OK);
			CHECK_EQ(tls_ecdhe_shared(&b, a.pub, a.pub_len, sb, &nb), ATL_OK);
			CHECK_EQ(na, sec_len[i]);
			CHECK_EQ(nb, sec_len[i]);
			CHECK_MEM(sa, sb, na);
		}
	}
	CHECK(!tls_group_known(25)); /* P-521: not offered */
	CHECK(!tls_group_known(30)); /* X448 */
	CHECK_EQ(tls_ecdhe_gen(&a, 30, &rng.vtable), ATL_ENOTSUP);
}

TEST(ecdhe_invalid_points_are_refused)
{
	br_hmac_drbg_context rng;
	struct tls_ecdhe a, b;
	uint8_t pt[133], out[48];
	size_t n;

	drbg(&rng, 2);
	for (uint16_t g = TLS_GROUP_P256; g <= TLS_GROUP_P384; g++) {
		CHECK_EQ(tls_ecdhe_gen(&a, g, &rng.vtable), ATL_OK);
		CHECK_EQ(tls_ecdhe_gen(&b, g, &rng.vtable), ATL_OK);
		/* Wrong lengths, the compressed form, the point at infinity. */
		CHECK_EQ(tls_ecdhe_shared(&a, b.pub, b.pub_len - 1, out, &n), ATL_EINVAL);
		CHECK_EQ(tls_ecdhe_shared(&a, b.pub, 33, out, &n), ATL_EINVAL);
		memcpy(pt, b.pub, b.pub_len);
		pt[0] = 0x02;
		CHECK_EQ(tls_ecdhe_shared(&a, pt, b.pub_len, out, &n), ATL_EINVAL);
		pt[0] = 0x04;
		CHECK_EQ(tls_ecdhe_shared(&a, (const uint8_t[]){0}, 1, out, &n), ATL_EINVAL);
		memset(pt + 1, 0, b.pub_len - 1);
		CHECK_EQ(tls_ecdhe_shared(&a, pt, b.pub_len, out, &n), ATL_EINVAL);
		/* Off the curve: one bit of Y changed. */
		memcpy(pt, b.pub, b.pub_len);
		pt[b.pub_len - 1] ^= 1;
		CHECK_EQ(tls_ecdhe_shared(&a, pt, b.pub_len, out, &n), ATL_EINVAL);
		/* A P-256 key offered to a P-384 exchange, and back. */
		if (g == TLS_GROUP_P384) {
			struct tls_ecdhe c;
			CHECK_EQ(tls_ecdhe_gen(&c, TLS_GROUP_P256, &rng.vtable), ATL_OK);
			CHECK_EQ(tls_ecdhe_shared(&a, c.pub, c.pub_len, out, &n), ATL_EINVAL);
			CHECK_EQ(tls_ecdhe_shared(&c, a.pub, a.pub_len, out, &n), ATL_EINVAL);
		}
		CHECK_EQ(tls_ecdhe_shared(&a, b.pub, b.pub_len, out, &n), ATL_OK);
	}

	/* X25519: the low-order u-coordinates 0 and 1 give an all-zero
	 * secret (RFC 7748 6.1, RFC 8446 7.4.2); a short value is malformed. */
	CHECK_EQ(tls_ecdhe_gen(&a, TLS_GROUP_X25519, &rng.vtable), ATL_OK);
	memset(pt, 0, 32);
	CHECK_EQ(tls_ecdhe_shared(&a, pt, 32, out, &n), ATL_EINVAL);
	pt[0] = 1;
	CHECK_EQ(tls_ecdhe_shared(&a, pt, 32, out, &n), ATL_EINVAL);
	/* p itself (2^255 - 19) reduces to 0. */
	memset(pt, 0xff, 32);
	pt[0] = 0xed;
	pt[31] = 0x7f;
	CHECK_EQ(tls_ecdhe_shared(&a, pt, 32, out, &n), ATL_EINVAL);
	CHECK_EQ(tls_ecdhe_shared(&a, a.pub, 31, out, &n), ATL_EINVAL);
	CHECK_EQ(tls_ecdhe_shared(&a, a.pub, 65, out, &n), ATL_EINVAL);
	/* An unknown group has no shared secret. */
	b = a;
	b.group = 30;
	CHECK_EQ(tls_ecdhe_shared(&b, a.pub, 32, out, &n), ATL_EINVAL);
}

TEST_MAIN(TEST_ENTRY(rfc8448_x25519_keys_and_shared_secret), TEST_ENTRY(rfc8448_1rtt_key_schedule),
	  TEST_ENTRY(rfc8448_1rtt_records), TEST_ENTRY(rfc8448_resumption_binder_and_early_data),
	  TEST_ENTRY(rfc8448_hrr_p256_and_transcript), TEST_ENTRY(hkdf_extract_rfc5869_case1),
	  TEST_ENTRY(hkdf_expand_label_layout_and_update), TEST_ENTRY(tls12_prf_published_vectors),
	  TEST_ENTRY(tls12_master_secret_and_finished), TEST_ENTRY(transcript_hash_does_not_end_it),
	  TEST_ENTRY(suite_table), TEST_ENTRY(wipe_and_ct_eq),
	  TEST_ENTRY(seal_open_round_trips_every_length_class),
	  TEST_ENTRY(sequence_numbers_change_the_record),
	  TEST_ENTRY(tampered_records_are_bad_record_mac),
	  TEST_ENTRY(records_too_short_for_the_tag), TEST_ENTRY(tls13_padding_is_stripped),
	  TEST_ENTRY(tls13_all_zero_inner_is_unexpected_message),
	  TEST_ENTRY(oversize_records_are_record_overflow),
	  TEST_ENTRY(tls12_gcm_explicit_nonce_is_the_sequence),
	  TEST_ENTRY(ecdhe_agreement_every_group), TEST_ENTRY(ecdhe_invalid_points_are_refused))
