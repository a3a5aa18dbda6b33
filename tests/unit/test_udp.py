"""The SFU drains every waiting datagram per readiness event."""

import asyncio
import socket
import time

from gikai.media.sfu.udp import MAX_READS, drain_datagram_reads


class Collect(asyncio.DatagramProtocol):
    def __init__(self):
        self.got = []

    def datagram_received(self, data, addr):
        self.got.append(data)


async def test_a_burst_of_datagrams_is_read_in_one_turn_and_in_order():
    assert drain_datagram_reads()
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(Collect, local_addr=("127.0.0.1", 0))
    port = transport.get_extra_info("sockname")[1]
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        await asyncio.sleep(0.01)
        for i in range(MAX_READS):
            sender.sendto(bytes([i]), ("127.0.0.1", port))
        time.sleep(0.05)  # noqa: ASYNC251  (the loop must be busy: the burst waits in the kernel)
        await asyncio.sleep(0)
        await asyncio.sleep(0)  # one loop turn with the socket ready has passed
        assert len(protocol.got) == MAX_READS, "one readiness event reads the whole burst"
        assert protocol.got == [bytes([i]) for i in range(MAX_READS)]
    finally:
        sender.close()
        transport.close()
