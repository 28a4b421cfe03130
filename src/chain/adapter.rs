//! The one interface through which the relay touches chain-specific rules, so the
//! feeder, the store and the sync pipeline work unchanged for devnet and Starknet.

use std::fmt;

use bytes::Bytes;

use super::verified::{check_number, check_size};
use super::{
    Block, BlockHash, BlockNumber, ClassHash, ClassNeeds, Component, Header, VerifiedBlock,
    BODY_COMPONENTS,
};

/// Largest header accepted, in bytes (default of [`ChainAdapter::part_limit`]): real headers
/// are 262 bytes (devnet) to under 2 KiB (Starknet canonical JSON, every fixture era).
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Largest body or class bundle accepted, in bytes (default of [`ChainAdapter::part_limit`]):
/// the sync protocols' frame limit.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Why a header, body or block was refused. [`VerifyError::reason`] is the stable
/// label used in metrics and logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// Bytes that do not decode as the adapter's format.
    #[error("malformed {what}: {detail}")]
    Malformed {
        /// What was being decoded (header, block, a component name).
        what: &'static str,
        /// Human-readable detail.
        detail: String,
    },
    /// A body's items do not hash to the header's commitment.
    #[error("{component} commitment does not match the header")]
    CommitmentMismatch {
        /// The offending component.
        component: Component,
    },
    /// A body has a different number of items than the header says.
    #[error("{component} has {actual} items, header says {expected}")]
    CountMismatch {
        /// The offending component.
        component: Component,
        /// Count in the header.
        expected: u32,
        /// Count found in the body.
        actual: u32,
    },
    /// The header hashes to something other than the hash it was announced or requested as.
    #[error("block hash {actual} differs from expected {expected}")]
    HashMismatch {
        /// The hash the caller expected.
        expected: BlockHash,
        /// The hash computed from the header.
        actual: BlockHash,
    },
    /// The upstream signature over the block hash does not verify with the pinned key.
    #[error("signature does not verify with the pinned upstream key")]
    BadSignature,
    /// The header does not link to its parent (parent hash or number).
    #[error("block {number} does not link to parent {expected}: parent_hash is {actual}")]
    ParentMismatch {
        /// Height of the block being checked.
        number: BlockNumber,
        /// Hash of the known parent.
        expected: BlockHash,
        /// The block's `parent_hash`.
        actual: BlockHash,
    },
    /// The block has another height than the one requested.
    #[error("expected block {expected}, got block {actual}")]
    WrongNumber {
        /// Requested height.
        expected: BlockNumber,
        /// Height found in the header.
        actual: BlockNumber,
    },
    /// A transaction's stated hash differs from the hash recomputed from its fields
    /// (Starknet: wrong fields, or a transaction of another chain id).
    #[error("transaction {index} does not hash to its stated transaction hash")]
    TransactionHash {
        /// Position of the transaction in the block.
        index: u32,
    },
    /// A receipt or event entry does not belong to the block's transaction at its
    /// position (another transaction hash or index).
    #[error("{component} entry {index} does not reference the block's transaction {index}")]
    TransactionLink {
        /// The component holding the stray entry.
        component: Component,
        /// Position of the entry.
        index: u32,
    },
    /// A block's class list is not what its state diff declares and deploys (a declared class
    /// missing, a class listed twice, or one the block neither declares nor deploys).
    #[error("class list does not match the state diff: {detail}")]
    ClassList {
        /// What is wrong, naming the class.
        detail: String,
    },
    /// A contract class definition does not hash to the class hash it was declared or
    /// requested as (Starknet).
    #[error("class hash {computed:#x} differs from expected {expected:#x}")]
    ClassHash {
        /// The class hash the state diff (or the request) names.
        expected: starknet_crypto::Felt,
        /// The class hash recomputed from the definition.
        computed: starknet_crypto::Felt,
    },
}

impl VerifyError {
    /// Stable, low-cardinality label for metrics and logs.
    pub fn reason(&self) -> &'static str {
        match self {
            VerifyError::Malformed { .. } => "malformed",
            VerifyError::CommitmentMismatch { .. } => "commitment_mismatch",
            VerifyError::CountMismatch { .. } => "count_mismatch",
            VerifyError::HashMismatch { .. } => "hash_mismatch",
            VerifyError::BadSignature => "bad_signature",
            VerifyError::ParentMismatch { .. } => "parent_mismatch",
            VerifyError::WrongNumber { .. } => "wrong_number",
            VerifyError::TransactionHash { .. } => "transaction_hash_mismatch",
            VerifyError::TransactionLink { .. } => "transaction_link_mismatch",
            VerifyError::ClassHash { .. } => "class_hash_mismatch",
            VerifyError::ClassList { .. } => "class_list_mismatch",
        }
    }

    /// Shorthand for [`VerifyError::Malformed`].
    pub fn malformed(what: &'static str, detail: impl fmt::Display) -> Self {
        VerifyError::Malformed {
            what,
            detail: detail.to_string(),
        }
    }
}

/// Chain-specific hashing, encoding and verification. Object safe: the node holds an
/// `Arc<dyn ChainAdapter>` chosen per network in config.
pub trait ChainAdapter: Send + Sync + fmt::Debug {
    /// Short adapter name for logs (`devnet`, `starknet`).
    fn name(&self) -> &'static str;

    /// Decodes a header (with its signature) from the adapter's wire/storage bytes.
    fn decode_header(&self, bytes: &[u8]) -> Result<Header, VerifyError>;

    /// Encodes a header (with its signature); inverse of [`ChainAdapter::decode_header`].
    fn encode_header(&self, header: &Header) -> Vec<u8>;

    /// The block hash: what the signature signs and what the next block's parent hash is.
    fn block_hash(&self, header: &Header) -> BlockHash;

    /// Checks the upstream signature over the block hash; returns the hash on success.
    fn verify_header_signature(&self, header: &Header) -> Result<BlockHash, VerifyError>;

    /// Checks the signatures of several headers; returns their block hashes in order. Adapters
    /// whose scheme allows it check them as one batch (faster); the result must be the same as
    /// calling [`ChainAdapter::verify_header_signature`] on each: on failure, the index and error
    /// of the first header that fails its own check.
    fn verify_header_signatures(
        &self,
        headers: &[&Header],
    ) -> Result<Vec<BlockHash>, (usize, VerifyError)> {
        headers
            .iter()
            .enumerate()
            .map(|(i, h)| self.verify_header_signature(h).map_err(|e| (i, e)))
            .collect()
    }

    /// Checks one body component against the header's commitment and item count.
    fn verify_body(
        &self,
        header: &Header,
        component: Component,
        body: &[u8],
    ) -> Result<(), VerifyError>;

    /// Checks that a block's bodies, each already verified alone, agree with each other (on
    /// Starknet: receipts and events name the block's transactions in order, which nothing else
    /// binds before 0.13.2). The P2P sync pipeline runs it once a block is complete. Default:
    /// nothing to check.
    /// `bodies` are indexed like [`BODY_COMPONENTS`].
    fn verify_cross_links(&self, bodies: &[Bytes; 4]) -> Result<(), VerifyError> {
        let _ = bodies;
        Ok(())
    }

    /// The contract classes a block brings, read from its (verified) bodies: on Starknet the
    /// state diff's declared classes and its deployed contracts' classes. Default: none.
    fn class_needs(&self, bodies: &[Bytes; 4]) -> Result<ClassNeeds, VerifyError> {
        let _ = bodies;
        Ok(ClassNeeds::default())
    }

    /// Recomputes the hash of a class definition and compares it with `hash` (the hash the
    /// block names). Default: refused, the chain has no classes.
    fn verify_class(&self, hash: &ClassHash, definition: &[u8]) -> Result<(), VerifyError> {
        let _ = (hash, definition);
        Err(VerifyError::malformed(
            "classes",
            "this chain has no contract classes",
        ))
    }

    /// Largest accepted size of one part, in bytes, checked before it is decoded. Default:
    /// [`MAX_HEADER_BYTES`] for headers, [`MAX_BODY_BYTES`] for the rest.
    fn part_limit(&self, component: Component) -> usize {
        match component {
            Component::Headers => MAX_HEADER_BYTES,
            _ => MAX_BODY_BYTES,
        }
    }

    /// Decodes header bytes that are exactly the adapter's canonical encoding of what they
    /// decode to, within [`ChainAdapter::part_limit`]: the signature covers the decoded fields
    /// only, so whitespace, unknown keys or trailing bytes would otherwise be stored and served.
    fn decode_canonical_header(&self, bytes: &[u8]) -> Result<Header, VerifyError> {
        check_size("header", bytes.len(), self.part_limit(Component::Headers))?;
        let header = self.decode_header(bytes)?;
        if self.encode_header(&header) != bytes {
            return Err(VerifyError::malformed("header", "not in canonical form"));
        }
        Ok(header)
    }

    /// [`ChainAdapter::verify_body`] after the size check of [`ChainAdapter::part_limit`].
    fn verify_part(
        &self,
        header: &Header,
        component: Component,
        body: &[u8],
    ) -> Result<(), VerifyError> {
        check_size(component.name(), body.len(), self.part_limit(component))?;
        self.verify_body(header, component, body)
    }

    /// All checks: parent link (when the parent is known), signature, every body (size and
    /// canonical form included), then the bodies against each other. Returns the block in the
    /// form the store takes: its hash and canonical header bytes, computed once here. The
    /// classes are carried as given (a feeder verifies and attaches them afterwards).
    fn verify_block(
        &self,
        block: &Block,
        parent: Option<&Header>,
    ) -> Result<VerifiedBlock, VerifyError> {
        if let Some(parent) = parent {
            self.verify_parent_link(&block.header, parent)?;
        }
        let hash = self.verify_header_signature(&block.header)?;
        let encoded_header = Bytes::from(self.encode_header(&block.header));
        check_size(
            "header",
            encoded_header.len(),
            self.part_limit(Component::Headers),
        )?;
        for (component, body) in BODY_COMPONENTS.iter().zip(&block.bodies) {
            self.verify_part(&block.header, *component, body)?;
        }
        self.verify_cross_links(&block.bodies)?;
        Ok(VerifiedBlock {
            header: block.header.clone(),
            hash,
            encoded_header,
            bodies: block.bodies.clone(),
            classes: block.classes.clone(),
        })
    }

    /// Checks that `header` is the direct child of `parent` (height and hash).
    fn verify_parent_link(&self, header: &Header, parent: &Header) -> Result<(), VerifyError> {
        check_number(parent.number + 1, header.number)?;
        let expected = self.block_hash(parent);
        if header.parent_hash != expected {
            return Err(VerifyError::ParentMismatch {
                number: header.number,
                expected,
                actual: header.parent_hash,
            });
        }
        Ok(())
    }

    /// Checks that `header` hashes to `expected` (an announced or requested hash).
    fn verify_hash(&self, header: &Header, expected: &BlockHash) -> Result<(), VerifyError> {
        let actual = self.block_hash(header);
        if actual != *expected {
            return Err(VerifyError::HashMismatch {
                expected: *expected,
                actual,
            });
        }
        Ok(())
    }
}
