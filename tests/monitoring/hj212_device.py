"""A data logger written from the standards, independent of portal/monitoring: its own CRC (HJ 212 appendix bit
loop) and its own pure-Python SM4 (GB/T 32907-2016, checked against the standard's example below), so the tests do
not build packets with the code they test."""
from __future__ import annotations

SBOX = bytes.fromhex(
    "d690e9fecce13db716b614c228fb2c052b679a762abe04c3aa44132649860699"
    "9c4250f491ef987a33540b43edcfac62e4b31ca9c908e89580df94fa758f3fa6"
    "4707a7fcf37317ba83593c19e6854fa8686b81b27164da8bf8eb0f4b70569d35"
    "1e240e5e6358d1a225227c3b01217887d40046579fd327524c3602e7a0c4c89e"
    "eabf8ad240c738b5a3f7f2cef96115a1e0ae5da49b341a55ad933230f58cb1e3"
    "1df6e22e8266ca60c02923ab0d534e6fd5db3745defd8e2f03ff6a726d6c5b51"
    "8d1baf92bbddbc7f11d95c411f105ad80ac13188a5cd7bbd2d74d012b8e5b4b0"
    "8969974a0c96777e65b9f109c56ec68418f07dec3adc4d2079ee5f3ed7cb3948")
FK = (0xA3B1BAC6, 0x56AA3350, 0x677D9197, 0xB27022DC)
CK = tuple(int.from_bytes(bytes(((4 * i + j) * 7) % 256 for j in range(4)), "big") for i in range(32))
MASK = 0xFFFFFFFF


def _rotl(x: int, n: int) -> int:
    return ((x << n) | (x >> (32 - n))) & MASK


def _tau(x: int) -> int:
    return int.from_bytes(bytes(SBOX[b] for b in x.to_bytes(4, "big")), "big")


def _t(x: int) -> int:
    b = _tau(x)
    return b ^ _rotl(b, 2) ^ _rotl(b, 10) ^ _rotl(b, 18) ^ _rotl(b, 24)


def _t_key(x: int) -> int:
    b = _tau(x)
    return b ^ _rotl(b, 13) ^ _rotl(b, 23)


def round_keys(key: bytes) -> list[int]:
    k = [int.from_bytes(key[4 * i:4 * i + 4], "big") ^ FK[i] for i in range(4)]
    for i in range(32):
        k.append(k[i] ^ _t_key(k[i + 1] ^ k[i + 2] ^ k[i + 3] ^ CK[i]))
    return k[4:]


def _block(data: bytes, rk: list[int]) -> bytes:
    x = [int.from_bytes(data[4 * i:4 * i + 4], "big") for i in range(4)]
    for i in range(32):
        x.append(x[i] ^ _t(x[i + 1] ^ x[i + 2] ^ x[i + 3] ^ rk[i]))
    return b"".join(v.to_bytes(4, "big") for v in reversed(x[-4:]))


def sm4_ecb_encrypt(key: bytes, data: bytes) -> bytes:
    assert len(key) == 16 and len(data) % 16 == 0
    rk = round_keys(key)
    return b"".join(_block(data[i:i + 16], rk) for i in range(0, len(data), 16))


def sm4_ecb_decrypt(key: bytes, data: bytes) -> bytes:
    rk = list(reversed(round_keys(key)))
    return b"".join(_block(data[i:i + 16], rk) for i in range(0, len(data), 16))


def crc(data: bytes) -> int:
    """HJ 212 appendix CRC, bit by bit."""
    reg = 0xFFFF
    for byte in data:
        reg = (reg >> 8) ^ byte
        for _ in range(8):
            carry = reg & 1
            reg >>= 1
            if carry:
                reg ^= 0xA001
    return reg


def frame(segment: str, swap_crc: bool = False) -> bytes:
    raw = segment.encode("utf-8")
    value = crc(raw)
    if swap_crc:
        value = ((value & 0xFF) << 8) | (value >> 8)
    return b"##%04d%s%04X\r\n" % (len(raw), raw, value)


def upload(mn: str, pw: str, cn: str, cp: str, qn: str | None = None, st: str = "32", flag: int = 5,
           extra: str = "", sm4_key: bytes | None = None) -> bytes:
    """A packet as a logger sends it; with an SM4 key the CP text is encrypted (zero-filled to 16 bytes, hex)."""
    if sm4_key is not None:
        data = cp.encode("utf-8")
        data += b"\0" * (-len(data) % 16)
        cp = sm4_ecb_encrypt(sm4_key, data).hex().upper()
    head = f"QN={qn};" if qn else ""
    return frame(f"{head}ST={st};CN={cn};PW={pw};MN={mn};Flag={flag};{extra}CP=&&{cp}&&")
