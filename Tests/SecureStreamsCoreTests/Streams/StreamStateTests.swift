import Testing
@testable import SecureStreamsCore

extension StreamsTests {
    @Suite struct StreamStateTests {
        static let code = ErrorCode(0x100)

        private func isFinalSizeError(_ transition: StreamTransition) -> Bool {
            if case .violation(let error) = transition { return error.code == .finalSizeError }
            return false
        }

        // MARK: Sending half

        @Test func sendHappyPath() {
            var state = SendState.ready
            #expect(state.onStreamFrameSent(fin: false) == .accept)
            #expect(state == .send)
            #expect(state.onStreamFrameSent(fin: false) == .accept)
            #expect(state.onAllAcknowledged() == .ignore)  // not finished yet
            #expect(state.onStreamFrameSent(fin: true) == .accept)
            #expect(state == .dataSent)
            #expect(state.onStreamFrameSent(fin: true) == .accept)  // retransmission
            #expect(state.onAllAcknowledged() == .accept)
            #expect(state == .dataRecvd)
            #expect(state.isTerminal)
            #expect(state.onStreamFrameSent(fin: false) == .ignore)
        }

        @Test func finStraightFromReady() {
            var state = SendState.ready
            #expect(state.onStreamFrameSent(fin: true) == .accept)
            #expect(state == .dataSent)
        }

        @Test(arguments: [SendState.ready, .send, .dataSent])
        func resetFromEveryLiveSendState(start: SendState) {
            var state = start
            #expect(state.reset(Self.code) == .accept)
            #expect(state == .resetSent(Self.code))
            #expect(!state.isSendingData)
            #expect(state.reset(ErrorCode(0x200)) == .ignore)  // keeps the first code
            #expect(state.onResetLost() == .accept)
            #expect(state.onStreamFrameSent(fin: false) == .ignore)
            #expect(state.onResetAcknowledged() == .accept)
            #expect(state == .resetRecvd(Self.code))
            #expect(state.isTerminal)
            #expect(state.onResetLost() == .ignore)
        }

        @Test(arguments: [SendState.ready, .send, .dataSent])
        func stopSendingIsAnsweredWithAReset(start: SendState) {
            var state = start
            #expect(state.onStopSending(Self.code) == .accept)
            #expect(state == .resetSent(Self.code))
            #expect(state.onStopSending(Self.code) == .ignore)
        }

        @Test func stopSendingAfterEverythingWasDeliveredIsIgnored() {
            var state = SendState.dataRecvd
            #expect(state.onStopSending(Self.code) == .ignore)
            #expect(state.reset(Self.code) == .ignore)
            #expect(state == .dataRecvd)
        }

        @Test func resetAcknowledgementOutsideResetSentIsIgnored() {
            for start in [SendState.ready, .send, .dataSent, .dataRecvd, .resetRecvd(Self.code)] {
                var state = start
                #expect(state.onResetAcknowledged() == .ignore)
                #expect(state == start)
            }
        }

        // MARK: Receiving half

        @Test func receiveHappyPath() {
            var state = ReceiveState.recv
            #expect(state.onStreamFrame(end: 10, fin: false, highestReceived: 0) == .accept)
            #expect(state.onAllDataReceived() == .ignore)  // size unknown
            #expect(state.onStreamFrame(end: 20, fin: true, highestReceived: 10) == .accept)
            #expect(state == .sizeKnown(finalSize: 20))
            #expect(state.onStreamFrame(end: 15, fin: false, highestReceived: 20) == .accept)  // filling a gap
            #expect(state.onAllDataReceived() == .accept)
            #expect(state == .dataRecvd(finalSize: 20))
            #expect(state.onStreamFrame(end: 20, fin: true, highestReceived: 20) == .ignore)  // duplicate
            #expect(state.onAllDataRead() == .accept)
            #expect(state == .dataRead(finalSize: 20))
            #expect(state.isTerminal)
        }

        @Test func resetPath() {
            var state = ReceiveState.recv
            #expect(state.onReset(Self.code, finalSize: 50, highestReceived: 30) == .accept)
            #expect(state == .resetRecvd(finalSize: 50, Self.code))
            #expect(state.resetCode == Self.code)
            #expect(state.onStreamFrame(end: 50, fin: true, highestReceived: 50) == .ignore)
            #expect(state.onReset(Self.code, finalSize: 50, highestReceived: 50) == .ignore)
            #expect(state.onResetRead() == .accept)
            #expect(state == .resetRead(finalSize: 50, Self.code))
            #expect(state.isTerminal)
        }

        @Test func resetWhenTheSizeIsKnown() {
            var state = ReceiveState.sizeKnown(finalSize: 40)
            #expect(state.onReset(Self.code, finalSize: 40, highestReceived: 40) == .accept)
            #expect(state == .resetRecvd(finalSize: 40, Self.code))
        }

        @Test func resetAfterAllDataArrivedIsIgnoredSoTheDataIsDelivered() {
            var state = ReceiveState.dataRecvd(finalSize: 40)
            #expect(state.onReset(Self.code, finalSize: 40, highestReceived: 40) == .ignore)
            #expect(state == .dataRecvd(finalSize: 40))
        }

        @Test func finalSizeViolationsInEveryState() {
            // FIN below data already received.
            var recv = ReceiveState.recv
            #expect(isFinalSizeError(recv.onStreamFrame(end: 5, fin: true, highestReceived: 10)))
            #expect(isFinalSizeError(recv.onReset(Self.code, finalSize: 9, highestReceived: 10)))
            #expect(recv == .recv)
            let sized: [ReceiveState] = [.sizeKnown(finalSize: 20), .dataRecvd(finalSize: 20), .dataRead(finalSize: 20),
                                         .resetRecvd(finalSize: 20, Self.code), .resetRead(finalSize: 20, Self.code)]
            for start in sized {
                var state = start
                #expect(isFinalSizeError(state.onStreamFrame(end: 21, fin: false, highestReceived: 20)), "\(start)")
                #expect(isFinalSizeError(state.onStreamFrame(end: 19, fin: true, highestReceived: 20)), "\(start)")
                #expect(isFinalSizeError(state.onStreamFrame(end: 25, fin: true, highestReceived: 20)), "\(start)")
                #expect(isFinalSizeError(state.onReset(Self.code, finalSize: 21, highestReceived: 20)), "\(start)")
                #expect(state == start, "a violation changes nothing")
            }
        }

        @Test func stopSendingOnlyWhileDataIsExpected() {
            #expect(ReceiveState.recv.stopSending() == .accept)
            #expect(ReceiveState.sizeKnown(finalSize: 3).stopSending() == .accept)
            #expect(ReceiveState.dataRecvd(finalSize: 3).stopSending() == .ignore)
            #expect(ReceiveState.resetRecvd(finalSize: 3, Self.code).stopSending() == .ignore)
        }

        @Test func readTransitionsOutsideTheirStateAreIgnored() {
            for start in [ReceiveState.recv, .sizeKnown(finalSize: 1), .dataRead(finalSize: 1),
                          .resetRecvd(finalSize: 1, Self.code), .resetRead(finalSize: 1, Self.code)] {
                var state = start
                #expect(state.onAllDataRead() == .ignore)
                #expect(state == start)
            }
            let unreset: [ReceiveState] = [.recv, .sizeKnown(finalSize: 1), .dataRecvd(finalSize: 1),
                                           .dataRead(finalSize: 1)]
            for start in unreset {
                var state = start
                #expect(state.onResetRead() == .ignore)
                #expect(state == start)
            }
        }

        // MARK: Both halves

        @Test func halfCloseKeepsTheOtherHalfRunning() {
            var state = StreamState()
            _ = state.send.onStreamFrameSent(fin: true)
            _ = state.send.onAllAcknowledged()
            #expect(state.send.isTerminal)
            #expect(!state.isClosed)
            #expect(state.receive.onStreamFrame(end: 10, fin: false, highestReceived: 0) == .accept)
            _ = state.receive.onStreamFrame(end: 10, fin: true, highestReceived: 10)
            _ = state.receive.onAllDataReceived()
            #expect(!state.isClosed)
            _ = state.receive.onAllDataRead()
            #expect(state.isClosed)
        }
    }
}
