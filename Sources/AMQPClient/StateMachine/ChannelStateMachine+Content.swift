import AMQPProtocol
import NIOCore

/// Content assembly (method, header, body frames) and publisher confirms.
extension ChannelStateMachine {
    /// A content-header frame arrived.
    mutating func headerReceived(_ header: ContentHeader) -> Action {
        guard case .expectingHeader(let incoming) = self.content else {
            if case .closed = self.state { return .none }
            if case .closing = self.state { return .none }
            return self.violation("a content header arrived without a content method", method: nil)
        }
        if header.bodySize == 0 {
            self.content = .idle
            return self.contentCompleted(incoming, Content(header: header, body: ByteBuffer()))
        }
        self.content = .expectingBody(incoming, header, nil)
        return .none
    }

    /// A content-body frame arrived.
    mutating func bodyReceived(_ bytes: ByteBuffer) -> Action {
        guard case .expectingBody(let incoming, let header, var body) = self.content else {
            if case .closed = self.state { return .none }
            if case .closing = self.state { return .none }
            return self.violation("a content body arrived without a content header", method: nil)
        }
        self.content = .idle  // avoid a copy-on-write of `body` while we append
        if body == nil {
            body = bytes
            if UInt64(bytes.readableBytes) < header.bodySize {
                // More frames follow: make room once instead of growing frame by frame.
                body!.reserveCapacity(minimumWritableBytes: Int(clamping: header.bodySize) - bytes.readableBytes)
            }
        } else {
            body!.writeImmutableBuffer(bytes)
        }
        let received = UInt64(body!.readableBytes)
        if received > header.bodySize {
            return self.violation("content body of \(received) bytes exceeds the \(header.bodySize) the header announced", method: incoming.method)
        }
        if received == header.bodySize {
            return self.contentCompleted(incoming, Content(header: header, body: body!))
        }
        self.content = .expectingBody(incoming, header, body)
        return .none
    }

    mutating func contentCompleted(_ incoming: Incoming, _ content: Content) -> Action {
        switch incoming {
        case .deliver(let deliver): .deliver(deliver, content)
        case .returned(let returned): .forwardReturn(returned, content)
        case .getOK(let request, let getOK): .succeedRequest(request, .getOK(getOK, content))
        }
    }

    // MARK: Confirms

    mutating func confirmReceived(tag: UInt64, multiple: Bool, nacked: Bool) -> Action {
        guard self.nextPublishTag != nil else {
            return self.violation("basic.\(nacked ? "nack" : "ack") from the broker outside confirm mode", method: nil)
        }
        var tags: [UInt64] = []
        if multiple {
            // Tag 0 with multiple set means "everything so far".
            while let first = self.outstandingConfirms.first, tag == 0 || first <= tag {
                tags.append(self.outstandingConfirms.removeFirst())
            }
        } else if let index = self.binarySearch(tag) {
            self.outstandingConfirms.remove(at: index)
            tags.append(tag)
        }
        // An unknown tag (already confirmed) is ignored rather than fatal.
        return tags.isEmpty ? .none : .completeConfirms(tags, nacked: nacked)
    }

    private func binarySearch(_ tag: UInt64) -> Int? {
        var low = self.outstandingConfirms.startIndex
        var high = self.outstandingConfirms.endIndex
        while low < high {
            let middle = (low + high) / 2
            let value = self.outstandingConfirms[middle]
            if value == tag { return middle }
            if value < tag { low = middle + 1 } else { high = middle }
        }
        return nil
    }
}
